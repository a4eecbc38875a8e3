// A tracer that reports, synchronously and the moment they happen, the start
// and end of every span it creates, delegating everything else to the tracer
// it wraps. The kill test uses it to know which phase of a refresh a SIGKILL
// landed in; the bench, to time the window between the token response and
// the rename (Refresher.SPAN_REQUEST's end → Refresher.SPAN_PERSIST's end).
import * as Effect from "effect/Effect"
import * as Tracer from "effect/Tracer"

export type Edge = "start" | "end"

/** Runs `effect` with every span it opens reported to `on`. */
export const marking =
  (on: (name: string, edge: Edge) => void) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.flatMap(Effect.tracer, (base) =>
      Effect.withTracer(
        effect,
        Tracer.make({
          span: (name, parent, context, links, startTime, kind, options) => {
            const span = base.span(name, parent, context, links, startTime, kind, options)
            on(name, "start")
            const end = span.end.bind(span)
            span.end = (endTime, exit) => {
              on(name, "end")
              end(endTime, exit)
            }
            return span
          },
          context: (f, fiber) => base.context(f, fiber)
        })
      )
    )
