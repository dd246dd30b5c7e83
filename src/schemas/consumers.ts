// Consumer: who calls the API (kong/db/schema/entities/consumers.lua). At least one of username/custom_id.
import { z } from "zod";
import { nullable, tags, text, timestamp, uuid } from "./common.ts";
import { lazy } from "./lazy.ts";

export const consumerFields = lazy(() => ({
  id: uuid().optional(),
  created_at: timestamp().optional(),
  updated_at: timestamp().optional(),
  username: nullable(text()),
  custom_id: nullable(text()),
  tags: tags(),
}));

export const consumerSchema = lazy(() =>
  z.strictObject(consumerFields(), { error: "expected a record" }).superRefine((c, ctx) => {
    if (c.username === null && c.custom_id === null)
      ctx.addIssue({
        code: "custom",
        path: ["@entity"],
        message: "at least one of these fields must be non-empty: 'custom_id', 'username'",
      });
  }),
);

export type Consumer = Omit<
  z.output<ReturnType<typeof consumerSchema>>,
  "id" | "created_at" | "updated_at"
> & {
  id: string;
  created_at: number;
  updated_at: number;
};
