import { expect } from "chai";
import { entropy } from "@twist/shared/entropy";

describe("entropy", () => {
  it("is 0 bits for one repeated character and log2(n) for n distinct ones", () => {
    expect(entropy("aaaa")).to.equal(0);
    expect(entropy("ab")).to.equal(1);
    expect(entropy("0123456789abcdef")).to.equal(4);
  });

  it("separates random keys from words", () => {
    expect(entropy("q8Zr2LxP0vN7bT4mKc9WyHs3")).to.be.above(4);
    expect(entropy("passwordpassword")).to.be.below(3);
  });
});
