// The console's menu: one entry per page area, in the order shown, each with the permission that
// shows it (the API refuses the rest anyway). Append your area's entries; group names are nav.groups.*.
export const NAV = [
  { path: '/dashboard', label: 'nav.dashboard', perm: 'dashboard.read', group: 'overview' },
  { path: '/parking', label: 'nav.parking', perm: 'devices.read', group: 'parking' },
  { path: '/alerts', label: 'nav.alerts', perm: 'monitor.read', group: 'operations' },
  { path: '/firmware', label: 'nav.firmware', perm: 'devices.read', group: 'operations' },
  { path: '/hierarchy', label: 'nav.hierarchy', perm: 'stations.read', group: 'assets' },
  { path: '/stations', label: 'nav.stations', perm: 'stations.read', group: 'assets' },
  { path: '/tariffs', label: 'nav.tariffs', perm: 'tariffs.read', group: 'tariffs' },
  { path: '/tariff-calculator', label: 'nav.tariff_calculator', perm: 'tariffs.read', group: 'tariffs' },
  { path: '/tariff-schemes', label: 'nav.tariff_schemes', perm: 'tariffs.read', group: 'tariffs' },
  { path: '/users', label: 'nav.users', perm: 'users.read', group: 'users' },
  { path: '/cards', label: 'nav.cards', perm: 'cards.read', group: 'users' },
  { path: '/packages', label: 'nav.packages', perm: 'users.read', group: 'users' },
  { path: '/payments', label: 'nav.payments', perm: 'users.read', group: 'money' },
  { path: '/refunds', label: 'nav.refunds', perm: 'users.read', group: 'money' },
  { path: '/ledger', label: 'nav.ledger', perm: 'users.read', group: 'money' },
];
