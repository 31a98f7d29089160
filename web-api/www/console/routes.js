// Hash routes of the console: pattern -> page module (loaded when first shown) and its export.
// Append your pages' routes.
export const ROUTES = [
  { pattern: '/dashboard', load: () => import('./pages/dashboard.js'), page: 'DashboardPage' },
  { pattern: '/devices', load: () => import('./pages/devices.js'), page: 'DevicesPage' },
  { pattern: '/devices/:id', load: () => import('./pages/device-detail.js'), page: 'DeviceDetailPage' },
  { pattern: '/device-stock', load: () => import('./pages/devices.js'), page: 'StockPage' },
  { pattern: '/device-models', load: () => import('./pages/device-models.js'), page: 'DeviceModelsPage' },
  { pattern: '/commands', load: () => import('./pages/commands.js'), page: 'CommandsPage' },
];
