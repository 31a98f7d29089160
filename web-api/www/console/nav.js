// The console's menu: one entry per page area, in the order shown, each with the permission that
// shows it (the API refuses the rest anyway). Append your area's entries; group names are nav.groups.*.
export const NAV = [
  { path: '/dashboard', label: 'nav.dashboard', perm: 'dashboard.read', group: 'overview' },
  { path: '/devices', label: 'nav.devices', perm: 'devices.read', group: 'assets' },
  { path: '/device-stock', label: 'nav.device_stock', perm: 'devices.read', group: 'assets' },
  { path: '/device-models', label: 'nav.device_models', perm: 'devices.read', group: 'assets' },
  { path: '/commands', label: 'nav.commands', perm: 'devices.read', group: 'operations' },
];
