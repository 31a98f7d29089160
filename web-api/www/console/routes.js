// Hash routes of the console: pattern -> page module (loaded when first shown) and its export.
// Append your pages' routes.
export const ROUTES = [
  { pattern: '/dashboard', load: () => import('./pages/dashboard.js'), page: 'DashboardPage' },
  { pattern: '/parking', load: () => import('./pages/parking.js'), page: 'ParkingPage' },
  { pattern: '/alerts', load: () => import('./pages/alerts.js'), page: 'AlertsPage' },
  { pattern: '/alerts/:id', load: () => import('./pages/alerts.js'), page: 'AlertDetailPage' },
  { pattern: '/firmware', load: () => import('./pages/firmware.js'), page: 'FirmwarePage' },
  { pattern: '/firmware/rollouts/:id', load: () => import('./pages/firmware.js'), page: 'RolloutPage' },
];
