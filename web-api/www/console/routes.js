// Hash routes of the console: pattern -> page module (loaded when first shown) and its export.
// Append your pages' routes.
export const ROUTES = [
  { pattern: '/dashboard', load: () => import('./pages/dashboard.js'), page: 'DashboardPage' },
  { pattern: '/users', load: () => import('./pages/users.js'), page: 'UsersPage' },
  { pattern: '/users/:id', load: () => import('./pages/user-detail.js'), page: 'UserDetailPage' },
  { pattern: '/cards', load: () => import('./pages/cards.js'), page: 'CardsPage' },
  { pattern: '/packages', load: () => import('./pages/packages.js'), page: 'PackagesPage' },
  { pattern: '/payments', load: () => import('./pages/payments.js'), page: 'PaymentsPage' },
  { pattern: '/payments/:id', load: () => import('./pages/payments.js'), page: 'PaymentDetailPage' },
  { pattern: '/refunds', load: () => import('./pages/refunds.js'), page: 'RefundsPage' },
  { pattern: '/refunds/:id', load: () => import('./pages/refunds.js'), page: 'RefundDetailPage' },
  { pattern: '/ledger', load: () => import('./pages/ledger.js'), page: 'LedgerPage' },
];
