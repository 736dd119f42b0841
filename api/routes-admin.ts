import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { amountToMinor, findAsset, isDecimalError, type RejectReason } from '../engine/index.ts';
import { parseJsonObject, requireJson } from './body.ts';
import type { ApiDeps, AppEnv } from './context.ts';
import { ApiError } from './errors.ts';
import { decimalText, zodToApiError } from './order-input.ts';
import type { Views } from './views.ts';

/** POST /admin/users (also the OpenAPI request schema: api/openapi.ts generates it from this). */
export const userBody = z.strictObject({ name: z.string().min(1).max(200) });
/**
 * POST /admin/deposits and /admin/withdrawals. `user_id` is a JSON integer, or the id exactly as
 * POST /admin/users answers it (a canonical decimal string: ids are decimal strings on this API, so
 * a client passing back what it was given must work). Anything else — "01", " 1", "1.0", 1.5, true,
 * a negative — is INVALID_FIELD, and two spellings never name two users.
 */
export const transferBody = z.strictObject({
  user_id: z
    .union([
      z.number().int().nonnegative().max(999_999_999_999_999),
      z
        .string()
        .regex(/^(0|[1-9]\d{0,14})$/)
        .transform(Number),
    ])
    .describe('the user id: a JSON integer, or the decimal string POST /admin/users answered (canonical: no sign, no leading zero)'),
  asset: z.string().max(16).describe('an asset of GET /v1/markets'),
  amount: z
    .union([z.string(), z.number()])
    .describe("decimal in the asset's units, as a string (a JSON number is read by its exact characters)"),
  reference: z.string().max(100).optional().describe('free text kept with the transfer'),
});

/** Admin: users and keys, deposits, withdrawals, and the state facts the crash test compares. */
export function adminRoutes(app: Hono<AppEnv>, deps: ApiDeps, views: Views): void {
  const { sequencer, credentials } = deps;

  const readJson = async (c: Context<AppEnv>): Promise<Record<string, unknown>> => {
    requireJson(c);
    return parseJsonObject(await c.req.text());
  };
  const parse = <T>(schema: z.ZodType<T>, input: Record<string, unknown>): T => {
    const parsed = schema.safeParse(input);
    if (!parsed.success) throw zodToApiError(parsed.error, input);
    return parsed.data;
  };

  app.post('/admin/users', async (c) => {
    const body = parse(userBody, await readJson(c));
    const user = await credentials.createUser(body.name);
    return c.json({ user_id: String(user.userId), api_key: user.apiKey, api_secret: user.apiSecret }, 201);
  });

  for (const kind of ['Deposit', 'Withdraw'] as const) {
    app.post(kind === 'Deposit' ? '/admin/deposits' : '/admin/withdrawals', async (c) => {
      const body = parse(transferBody, await readJson(c));
      const userId = body.user_id;
      // The fee account holds what the engine charged, nothing else: money paid in there would be
      // indistinguishable from fee income. Taking fees out (a withdrawal) stays an operator action.
      if (kind === 'Deposit' && userId === deps.engineConfig.feeAccountId) throw new ApiError('FEE_ACCOUNT_DEPOSIT');
      const asset = findAsset(deps.engineConfig, body.asset);
      if (!asset) throw new ApiError('UNKNOWN_ASSET', `no asset '${body.asset}'`);
      const amount = amountToMinor(asset, decimalText(body.amount, 'amount'));
      if (isDecimalError(amount)) throw new ApiError(amount.code as RejectReason, `amount: ${amount.message}`);
      if (amount <= 0) throw new ApiError('INVALID_AMOUNT', 'amount must be greater than zero');
      if (userId !== deps.engineConfig.feeAccountId && !(await credentials.userExists(userId))) {
        throw new ApiError('UNKNOWN_USER', `no user ${userId}`);
      }
      if (kind === 'Withdraw') {
        const balance = sequencer.queries.balances(userId).find((entry) => entry.asset === asset.code);
        if ((balance?.available ?? 0) < amount) throw new ApiError('INSUFFICIENT_AVAILABLE');
      }
      const result = await sequencer.submit({
        type: kind,
        userId,
        asset: asset.code,
        amount,
        ...(body.reference !== undefined ? { reference: body.reference } : {}),
      });
      const rejected = result.events.find((event) => event.type === 'OrderRejected');
      const balance = sequencer.queries.balances(userId).find((entry) => entry.asset === asset.code);
      const what = kind === 'Deposit' ? 'deposit' : 'withdrawal';
      const balances = views.balances(balance ? [balance] : []);
      if (rejected?.type === 'OrderRejected') {
        // journaled (it has a request id) but refused by the engine: nothing moved, and the answer says so
        return c.json(
          {
            error: rejected.reason,
            message: `${what} rejected by the engine: ${rejected.reason} (journaled as request ${result.seq}; no balance changed)`,
            request_id: String(result.seq),
            status: 'REJECTED',
            outcome: 'Rejected',
            reject_reason: rejected.reason,
            balances,
          },
          409,
        );
      }
      return c.json({
        request_id: String(result.seq),
        status: 'APPLIED',
        message: `${what} applied`,
        outcome: 'Applied',
        reject_reason: null,
        balances,
      });
    });
  }

  app.get('/admin/balances/:userId', async (c) => {
    const text = c.req.param('userId');
    if (!/^\d{1,15}$/.test(text)) throw new ApiError('INVALID_USER_ID');
    const userId = Number(text);
    if (userId !== deps.engineConfig.feeAccountId && !(await credentials.userExists(userId))) {
      throw new ApiError('USER_NOT_FOUND', `no user ${text}`);
    }
    return c.json({ user_id: text, balances: views.balances(sequencer.queries.balances(Number(text))) });
  });

  /** What replay checks compare: equal states ⇔ equal hashes. */
  app.get('/admin/state', (c) => {
    const queries = sequencer.queries;
    return c.json({
      last_seq: sequencer.lastSeq,
      last_event_seq: queries.lastEventSeq(),
      state_hash: queries.stateHash(),
      pending: sequencer.pending,
    });
  });
}
