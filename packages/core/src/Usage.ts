/**
 * The usage endpoint's report (`GET /api/oauth/usage`). Every window may be
 * null when the account has no such window; unknown fields are kept.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

const Rest = Schema.Record({ key: Schema.String, value: Schema.Unknown })
const opt = <S extends Schema.Schema.Any>(s: S) => Schema.optional(Schema.NullOr(s))

/** One window: `utilization` is 0..100, `resets_at` ISO-8601. @since 0.1.0 */
export const Window = Schema.Struct({ utilization: opt(Schema.Number), resets_at: opt(Schema.String) }, Rest)

/** The decoded form of {@link Window}. @since 0.1.0 */
export type Window = typeof Window.Type

/** Paid overage. @since 0.1.0 */
export const ExtraUsage = Schema.Struct(
  {
    is_enabled: opt(Schema.Boolean),
    monthly_limit: opt(Schema.Number),
    used_credits: opt(Schema.Number),
    utilization: opt(Schema.Number),
    currency: opt(Schema.String)
  },
  Rest
)

/** One entry of `limits`. @since 0.1.0 */
export const Limit = Schema.Struct(
  {
    kind: opt(Schema.String),
    group: opt(Schema.String),
    percent: opt(Schema.Number),
    severity: opt(Schema.String),
    resets_at: opt(Schema.String),
    is_active: opt(Schema.Boolean),
    scope: opt(Schema.Unknown)
  },
  Rest
)

/**
 * The usage endpoint's answer: each quota window, paid overage and per-limit
 * entries, unknown fields kept.
 *
 * @since 0.1.0
 */
export const Report = Schema.Struct(
  {
    five_hour: opt(Window),
    seven_day: opt(Window),
    seven_day_opus: opt(Window),
    seven_day_sonnet: opt(Window),
    seven_day_oauth_apps: opt(Window),
    extra_usage: opt(ExtraUsage),
    limits: opt(Schema.Array(Limit))
  },
  Rest
)

/** The decoded form of {@link Report}. @since 0.1.0 */
export type Report = typeof Report.Type
