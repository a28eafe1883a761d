import type { ApiSpec } from "../protocol/api";

export interface RequestContext {
  clientId: string;
  clientHost: string;
  apiVersion: number;
}

/** A handler returns the response, or null when the protocol says no response is sent (acks=0). */
export interface Handler<Req = unknown, Res = unknown> {
  spec: ApiSpec<Req, Res>;
  handle(req: Req, ctx: RequestContext): Promise<Res | null> | Res | null;
}

export function handler<Req, Res>(
  spec: ApiSpec<Req, Res>,
  handle: (req: Req, ctx: RequestContext) => Promise<Res | null> | Res | null,
): Handler {
  return { spec, handle } as unknown as Handler;
}
