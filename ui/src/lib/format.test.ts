import { describe, expect, it } from "vitest";
import { initials, orgPlanLabel, planLabel } from "./format";

describe("format", () => {
  it("labels plans", () => {
    expect(planLabel({ plan: "pro" })).toBe("PRO");
    expect(planLabel({ plan: "free" })).toBe("Free");
  });

  it("labels organisation plans", () => {
    const org = { name: "a", fullname: null, plan: null, isEnterprise: false, canBill: false };
    expect(orgPlanLabel(org)).toBe("Free");
    expect(orgPlanLabel({ ...org, plan: "team", canBill: true })).toBe("Team");
    expect(orgPlanLabel({ ...org, plan: "team", isEnterprise: true })).toBe("Enterprise");
  });

  it("makes initials", () => {
    expect(initials("Ada Lovelace")).toBe("AL");
    expect(initials("grace")).toBe("G");
    expect(initials("open_source-club team")).toBe("OS");
  });
});
