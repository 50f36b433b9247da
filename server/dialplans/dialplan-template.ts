/**
 * The smallest safe template language: `{{name}}` or `{{ source.name }}` is replaced by the call
 * variable of that name. No expressions, filters or code; names never reach Object.prototype.
 */
const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;
/** Variables come from website visitors (UTM tags) and end up in TTS: keep them short and printable. */
const MAX_VALUE_LENGTH = 100;

/** Why a template is malformed, or undefined when it is fine (used by the dialplan schema). */
export function templateProblem(template: string): string | undefined {
  const rest = template.replace(PLACEHOLDER, '');
  if (rest.includes('{{') || rest.includes('}}')) return 'malformed placeholder: write {{name}} with letters, digits, ".", "_" or "-" (e.g. {{source.name}})';
  return undefined;
}

/** Renders placeholders from `vars`; unknown names render empty. */
export function renderTemplate(template: string, vars: Readonly<Record<string, string>>): string {
  return template.replace(PLACEHOLDER, (_, key: string) => {
    const value = Object.hasOwn(vars, key) ? vars[key] : undefined;
    if (typeof value !== 'string') return '';
    // eslint-disable-next-line no-control-regex
    return value.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, MAX_VALUE_LENGTH);
  });
}

/** The variable names a template uses (for documentation and checks). */
export function templateVariables(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}
