// Consumer: who calls the API (kong/db/schema/entities/consumers.lua). At least one of username/custom_id.
import { z } from "zod";
import { nullable, tags, text, timestamp, uuid } from "./common.ts";

export const consumerFields = {
  id: uuid.optional(),
  created_at: timestamp.optional(),
  updated_at: timestamp.optional(),
  username: nullable(text),
  custom_id: nullable(text),
  tags,
};

export const consumerSchema = z
  .strictObject(consumerFields, { error: "expected a record" })
  .superRefine((c, ctx) => {
    if (c.username === null && c.custom_id === null)
      ctx.addIssue({
        code: "custom",
        path: ["@entity"],
        message: "at least one of these fields must be non-empty: 'custom_id', 'username'",
      });
  });

export type Consumer = Omit<z.output<typeof consumerSchema>, "id" | "created_at" | "updated_at"> & {
  id: string;
  created_at: number;
  updated_at: number;
};

export const CONSUMER_FIELDS = Object.keys(consumerFields) as (keyof Consumer)[];
