// Money as the pages write it, to compare a page with the API: integer fen as exact yuan text and
// as Intl.NumberFormat writes it in zh-CN (¥1,234.56), never through a float.
export const yuanText = (fen) => {
    const n = BigInt(fen);
    const a = n < 0n ? -n : n;
    return `${n < 0n ? '-' : ''}${a / 100n}.${String(a % 100n).padStart(2, '0')}`;
};
export const yuanZh = (fen) =>
    new Intl.NumberFormat('zh-CN', { style: 'currency', currency: 'CNY', currencyDisplay: 'narrowSymbol', minimumFractionDigits: 2 }).format(yuanText(fen));
