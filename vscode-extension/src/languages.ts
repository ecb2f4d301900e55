// The one place that says which documents safemig serves. The client's documentSelector and the
// manifest's activationEvents both come from here (a unit test checks that package.json's
// `activationEvents` equals `activationEvents()`).
//
// Python, Ruby and TypeScript migrations (Django/Alembic, Rails, Knex/TypeORM…) will be added to
// LANGUAGES once the server lints them.

/** VS Code language ids whose documents are sent to the server. */
export const LANGUAGES: readonly string[] = ['sql'];

/** Workspace contents that mean "this workspace has migrations": activate even before a file opens. */
export const WORKSPACE_MARKERS: readonly string[] = [
  '**/safemig.toml',
  '**/migrations/**/*.sql',
  '**/prisma/migrations/**',
  '**/supabase/migrations/**',
  '**/db/migrate/**',
  '**/drizzle/**/*.sql',
];

/** URI schemes of documents the server can analyse (saved files and unsaved buffers). */
export const SCHEMES: readonly string[] = ['file', 'untitled'];

export interface LanguageFilter {
  scheme: string;
  language: string;
}

export function documentSelector(): LanguageFilter[] {
  return LANGUAGES.flatMap((language) => SCHEMES.map((scheme) => ({ scheme, language })));
}

export function activationEvents(): string[] {
  return [
    ...LANGUAGES.map((language) => `onLanguage:${language}`),
    ...WORKSPACE_MARKERS.map((glob) => `workspaceContains:${glob}`),
  ];
}
