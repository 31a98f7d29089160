// Hash routes of the console: pattern -> page module (loaded when first shown) and its export.
// Append your pages' routes.
export const ROUTES = [
  { pattern: '/dashboard', load: () => import('./pages/dashboard.js'), page: 'DashboardPage' },
  { pattern: '/sessions', load: () => import('./pages/sessions.js'), page: 'SessionsPage' },
  { pattern: '/sessions/:id', load: () => import('./pages/session-detail.js'), page: 'SessionDetailPage' },
  { pattern: '/presence-log', load: () => import('./pages/monitor.js'), page: 'PresencePage' },
  { pattern: '/faults', load: () => import('./pages/monitor.js'), page: 'FaultsPage' },
  { pattern: '/incidents', load: () => import('./pages/monitor.js'), page: 'IncidentsPage' },
  { pattern: '/audit-log', load: () => import('./pages/audit.js'), page: 'AuditPage' },
  { pattern: '/staff', load: () => import('./pages/staff.js'), page: 'StaffPage' },
  { pattern: '/roles', load: () => import('./pages/staff.js'), page: 'RolesPage' },
  { pattern: '/password', load: () => import('./pages/staff.js'), page: 'PasswordPage' },
  { pattern: '/service', load: () => import('./pages/service.js'), page: 'ServicePage' },
];
