// Kong's paging for every list: `size` (1..1000, default 100), an opaque `offset` cursor, tag filters.
// A page answers `data`, the `offset` of the next page (null on the last), `hasNextPage`, `totalCount`.
// `size` and `tags` are checked as REST checks its query string (codes 9 and 11); the store checks `offset`.
import type { ObjectRef } from "@pothos/core";
import type { EntityRepository, Page, PageQuery, Scope } from "../../store/contract.ts";
import { checkSize, checkTags, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_TAG_FILTERS } from "../paging.ts";
import { type BuilderTypes, builder } from "./builder.ts";

export type PageResult<E> = {
  data: E[];
  offset: string | null;
  totalCount: () => Promise<number>;
};

export const TagsMode = builder.enumType("TagsMode", {
  description: "How several `tags` combine (REST: `?tags=a,b` is AND, `?tags=a/b` is OR).",
  values: {
    AND: { value: "and", description: "Entities that have every tag." },
    OR: { value: "or", description: "Entities that have at least one of the tags." },
  } as const,
});

export type PageArgs = {
  size?: number | null;
  offset?: string | null;
  tags?: readonly string[] | null;
  tagsMode?: "and" | "or" | null;
};

export const pageArgs = builder.args((t) => ({
  size: t.int({
    defaultValue: DEFAULT_PAGE_SIZE,
    description: `Entities per page, 1 to ${MAX_PAGE_SIZE}.`,
  }),
  offset: t.string({ description: "The `offset` of the previous page: where this page starts." }),
  tags: t.stringList({
    description: `Only entities with these tags (at most ${MAX_TAG_FILTERS}).`,
  }),
  tagsMode: t.field({ type: TagsMode, defaultValue: "and" }),
}));

const COUNT_PAGE = MAX_PAGE_SIZE;

export async function loadPage<E>(
  repo: EntityRepository<E>,
  args: PageArgs,
  scope?: Scope,
): Promise<PageResult<E>> {
  const size = checkSize(args.size ?? DEFAULT_PAGE_SIZE);
  const tags =
    args.tags && args.tags.length > 0
      ? { mode: args.tagsMode ?? "and", tags: [...checkTags(args.tags)] }
      : undefined;
  const query: PageQuery = {
    size,
    offset: args.offset ? args.offset : undefined,
    tags,
    scope,
  };
  const page: Page<E> = await repo.page(query);
  return {
    data: page.data,
    offset: page.offset,
    totalCount: async () => {
      if (!tags) return repo.count(scope);
      // The store counts only by scope; with a tag filter, walk the filtered pages (the same SQL).
      let total = 0;
      let offset: string | undefined;
      do {
        const chunk = await repo.page({ size: COUNT_PAGE, offset, tags, scope });
        total += chunk.data.length;
        offset = chunk.offset ?? undefined;
      } while (offset !== undefined);
      return total;
    },
  };
}

export function pageType<E>(name: string, item: ObjectRef<BuilderTypes, E>, description: string) {
  return builder.objectRef<PageResult<E>>(name).implement({
    description,
    fields: (t) => ({
      data: t.field({ type: [item], resolve: (page) => page.data }),
      offset: t.string({
        nullable: true,
        description: "Pass as `offset` to get the next page; null on the last page.",
        resolve: (page) => page.offset,
      }),
      hasNextPage: t.boolean({ resolve: (page) => page.offset !== null }),
      totalCount: t.int({
        description: "Entities matching the filter, on every page.",
        resolve: (page) => page.totalCount(),
      }),
    }),
  });
}
