import { request as httpRequest } from "node:http";
import { expect, test } from "@playwright/test";

/*
 * The sign-in limiter against the real web server (issue 16, High 4): it keyed
 * on a client-sent X-Forwarded-For, so password guessing was unlimited. Now the
 * address is the socket's. Requests leave from 127.0.0.2 / 127.0.0.3 (all of
 * 127/8 is loopback on Linux), so this file's bucket is nobody else's.
 */
function signIn(baseURL: string, from: string, body: object, spoofed: string): Promise<number> {
  const url = new URL("/api/auth/sign-in/email", baseURL);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname, port: url.port, path: url.pathname, method: "POST", localAddress: from,
        headers: {
          "content-type": "application/json", "content-length": Buffer.byteLength(payload), origin: baseURL,
          // What a guesser sends to look like a new client each time: neither header is believed.
          "x-forwarded-for": spoofed, "x-real-ip": spoofed, "x-sluice-client-address": spoofed,
        },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

test("sign-in attempts are limited per client address even when the client claims other addresses", async ({ baseURL }) => {
  const id = Math.random().toString(36).slice(2, 7);
  const statuses: number[] = [];
  for (let i = 0; i < 12; i++) {
    // Another account each time, so only the per-address limit can answer 429.
    statuses.push(await signIn(baseURL!, "127.0.0.2", { email: `guess-${i}-${id}@example.test`, password: "not the password" }, `203.0.113.${i + 1}`));
  }
  expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
  expect(statuses.slice(10)).toEqual([429, 429]);
  // Another client address has its own allowance: the limit is the socket's, not one shared bucket.
  expect(await signIn(baseURL!, "127.0.0.3", { email: `other-${id}@example.test`, password: "not the password" }, "203.0.113.200")).toBe(401);
});
