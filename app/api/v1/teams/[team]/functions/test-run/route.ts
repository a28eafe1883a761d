import { api, parseBody } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { testRunUdf, udfTestRunInput } from "@/lib/udf/test-run";

// POST /api/v1/teams/:team/functions/test-run — run a UDF (inline or from the registry) on sample records in the sandbox; writes nothing
export const POST = api<{ team: string }>(async (req, { params }) => {
  const principal = await authenticate(req.headers);
  return testRunUdf(principal, params.team, await parseBody(req, udfTestRunInput));
});
