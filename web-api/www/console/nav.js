// The console's menu: one entry per page area, in the order shown, each with the permission that
// shows it (the API refuses the rest anyway). Append your area's entries; group names are nav.groups.*.
export const NAV = [
  { path: '/dashboard', label: 'nav.dashboard', perm: 'dashboard.read', group: 'overview' },
  { path: '/sessions', label: 'nav.sessions', perm: 'sessions.read', group: 'orders' },
  { path: '/presence-log', label: 'nav.presence', perm: 'monitor.read', group: 'operations' },
  { path: '/faults', label: 'nav.faults', perm: 'monitor.read', group: 'operations' },
  { path: '/incidents', label: 'nav.incidents', perm: 'monitor.read', group: 'operations' },
  { path: '/service', label: 'nav.service', perm: 'service.read', group: 'service' },
  { path: '/staff', label: 'nav.staff', perm: 'admins.manage', group: 'system' },
  { path: '/roles', label: 'nav.roles', perm: 'admins.manage', group: 'system' },
  { path: '/audit-log', label: 'nav.audit', perm: 'audit.read', group: 'system' },
  { path: '/password', label: 'nav.password', perm: null, group: 'system' },
];
