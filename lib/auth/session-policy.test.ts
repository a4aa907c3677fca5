import { describe, expect, it } from "vitest";
import { evaluateSession, sessionEndsAt, shouldTouch } from "./session-policy";

const limits = { maxAgeSeconds: 8 * 3600, idleTimeoutSeconds: 30 * 60 };
const T0 = Date.parse("2026-01-01T08:00:00Z");
const at = (ms: number) => new Date(T0 + ms);
const MIN = 60_000;

function session(createdMin: number, lastActiveMin: number) {
  return { createdAt: at(createdMin * MIN), expires: at((createdMin + 8 * 60) * MIN), lastActiveAt: at(lastActiveMin * MIN) };
}

describe("session lifetime", () => {
  it("is live while used within the idle timeout and the absolute limit", () => {
    expect(evaluateSession(session(0, 0), T0 + 29 * MIN, limits)).toBe("live");
    expect(evaluateSession(session(0, 400), T0 + 420 * MIN, limits)).toBe("live");
  });

  it("idles out 30 minutes after the last use", () => {
    expect(evaluateSession(session(0, 0), T0 + 30 * MIN, limits)).toBe("idle");
    expect(evaluateSession(session(0, 100), T0 + 131 * MIN, limits)).toBe("idle");
  });

  it("ends 8 hours after creation however active", () => {
    expect(evaluateSession(session(0, 479), T0 + 480 * MIN, limits)).toBe("expired");
  });

  it("an extended expires column does not extend the absolute limit", () => {
    const s = { ...session(0, 479), expires: at(10_000 * MIN) };
    expect(evaluateSession(s, T0 + 480 * MIN, limits)).toBe("expired");
  });

  it("touches at most once a minute", () => {
    expect(shouldTouch(session(0, 0), T0 + 30_000, limits)).toBe(false);
    expect(shouldTouch(session(0, 0), T0 + MIN, limits)).toBe(true);
  });

  it("reports the earlier end", () => {
    expect(sessionEndsAt(session(0, 10), limits)).toEqual(at(40 * MIN));
    expect(sessionEndsAt(session(0, 470), limits)).toEqual(at(480 * MIN));
  });
});
