// Money as the pages write it, for tests to compare with: integer fen from the API as exact yuan
// text, and that text through Intl.NumberFormat zh-CN (static/lib/fmt.js fmtMoney does the same).
export const yuanText = (fen) => {
    const n = BigInt(fen);
    const a = n < 0n ? -n : n;
    return `${n < 0n ? '-' : ''}${a / 100n}.${String(a % 100n).padStart(2, '0')}`;
};
export const yuanZh = (fen) =>
    new Intl.NumberFormat('zh-CN', { style: 'currency', currency: 'CNY', currencyDisplay: 'narrowSymbol', minimumFractionDigits: 2 }).format(yuanText(fen));
