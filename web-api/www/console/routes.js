// Hash routes of the console: pattern -> page module (loaded when first shown) and its export.
// Append your pages' routes.
export const ROUTES = [
  { pattern: '/dashboard', load: () => import('./pages/dashboard.js'), page: 'DashboardPage' },
  { pattern: '/parking', load: () => import('./pages/parking.js'), page: 'ParkingPage' },
  { pattern: '/alerts', load: () => import('./pages/alerts.js'), page: 'AlertsPage' },
  { pattern: '/alerts/:id', load: () => import('./pages/alerts.js'), page: 'AlertDetailPage' },
  { pattern: '/firmware', load: () => import('./pages/firmware.js'), page: 'FirmwarePage' },
  { pattern: '/firmware/rollouts/:id', load: () => import('./pages/firmware.js'), page: 'RolloutPage' },
  { pattern: '/hierarchy', load: () => import('./pages/hierarchy.js'), page: 'HierarchyPage' },
  { pattern: '/stations', load: () => import('./pages/stations.js'), page: 'StationsPage' },
  { pattern: '/stations/:id', load: () => import('./pages/station-detail.js'), page: 'StationDetailPage' },
  { pattern: '/tariffs', load: () => import('./pages/tariffs.js'), page: 'TariffsPage' },
  { pattern: '/tariff-calculator', load: () => import('./pages/tariff-calculator.js'), page: 'TariffCalculatorPage' },
  { pattern: '/tariff-schemes', load: () => import('./pages/tariff-schemes.js'), page: 'TariffSchemesPage' },
];
