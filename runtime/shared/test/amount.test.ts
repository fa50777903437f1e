import { expect } from "chai";
import { AmountError, DEFAULT_MAX_AMOUNT, formatAmount, isAmount, parseAmount, twist } from "@twist/shared/amount";

describe("contract 5: amounts", () => {
  it("parses positive integer strings of base units into bigint", () => {
    expect(parseAmount("1")).to.equal(1n);
    expect(parseAmount("1000000000")).to.equal(twist(1));
    expect(parseAmount(DEFAULT_MAX_AMOUNT.toString())).to.equal(DEFAULT_MAX_AMOUNT);
    expect(formatAmount(123456789012345678901234567890n)).to.equal("123456789012345678901234567890");
  });

  const rejected: [string, unknown][] = [
    ["zero", "0"],
    ["negative", "-5"],
    ["leading plus", "+5"],
    ["decimal", "1.5"],
    ["trailing dot", "1."],
    ["exponent", "1e9"],
    ["hex", "0x10"],
    ["leading zero", "007"],
    ["leading whitespace", " 5"],
    ["trailing whitespace", "5 "],
    ["inner whitespace", "5 0"],
    ["underscore", "1_000"],
    ["empty", ""],
    ["number type", 5],
    ["bigint type", 5n],
    ["null", null],
    ["beyond the default maximum", (DEFAULT_MAX_AMOUNT + 1n).toString()],
    ["absurdly long", "9".repeat(60)],
  ];
  for (const [name, value] of rejected) {
    it(`rejects ${name}`, () => {
      expect(() => parseAmount(value)).to.throw(AmountError);
      expect(isAmount(value)).to.equal(false);
    });
  }

  it("applies a configured maximum", () => {
    expect(parseAmount("100", 100n)).to.equal(100n);
    expect(() => parseAmount("101", 100n)).to.throw(AmountError, /exceed 100/);
  });
});
