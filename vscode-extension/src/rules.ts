// Rule ids for "Explain Rule": from a diagnostic's code, or from `safemig rules` output.
// No `vscode` import.

export interface RuleInfo {
  id: string;
  severity: string;
  category: string;
  summary: string;
}

/**
 * Parses `safemig rules` (a table: a header line, then per category a heading line and rows
 * `  <id>  <severity>  <dialects>  <summary>` indented by two spaces). `safemig rules` has no JSON
 * output; unknown lines are skipped.
 */
export function parseRulesList(text: string): RuleInfo[] {
  const rules: RuleInfo[] = [];
  let category = '';
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '' || /^\s*ID\s+SEVERITY\b/.test(line) || line.startsWith('`')) {
      continue;
    }
    const row = /^\s+([a-z0-9][a-z0-9-]*)\s+(error|warning|info|hint|off)\s+(\S+)\s+(.*)$/.exec(line);
    if (row !== null) {
      rules.push({ id: row[1], severity: row[2], category, summary: row[4].trim() });
    } else if (!/^\s/.test(line)) {
      category = line.trim();
    }
  }
  return rules;
}

/** A diagnostic's code as a string (`code` may be a string, a number or `{ value, target }`). */
export function diagnosticCode(code: unknown): string | undefined {
  if (typeof code === 'string') {
    return code;
  }
  if (typeof code === 'number') {
    return String(code);
  }
  if (typeof code === 'object' && code !== null && 'value' in code) {
    return diagnosticCode((code as { value: unknown }).value);
  }
  return undefined;
}

export const RULE_ID = /^[a-z0-9][a-z0-9-]*$/;
