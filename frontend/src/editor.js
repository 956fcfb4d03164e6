// The studio's code editor: CodeMirror 6 over a plain <textarea>.
//
// The page works without this script: the file view renders a form with a
// <textarea name="content">. A textarea marked `data-editor` is replaced by an
// editor that writes its text back into the (hidden) textarea, so the form
// posts exactly what a plain textarea would, by a normal submit or by htmx.
//
// Colours come from the studio's CSS variables (static/css/studio.css), which
// follow the page's light or dark theme: the editor has no palette of its own.

import { indentWithTab, defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { json } from "@codemirror/lang-json";
import { markdown } from "@codemirror/lang-markdown";
import { python } from "@codemirror/lang-python";
import { yaml } from "@codemirror/lang-yaml";
import {
  HighlightStyle,
  StreamLanguage,
  bracketMatching,
  foldGutter,
  foldKeymap,
  indentOnInput,
  indentUnit,
  syntaxHighlighting,
} from "@codemirror/language";
import { toml } from "@codemirror/legacy-modes/mode/toml";
import { properties } from "@codemirror/legacy-modes/mode/properties";
import { lintGutter, setDiagnostics } from "@codemirror/lint";
import {
  highlightSelectionMatches,
  openSearchPanel,
  search,
  searchKeymap,
} from "@codemirror/search";
import { Compartment, EditorState, StateEffect, StateField } from "@codemirror/state";
import {
  Decoration,
  EditorView,
  crosshairCursor,
  drawSelection,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
  rectangularSelection,
} from "@codemirror/view";
import { tags as t } from "@lezer/highlight";

const WRAP_KEY = "studio.editor.wrap";

function languageFor(name) {
  switch (name) {
    case "python":
      return python();
    case "yaml":
      return yaml();
    case "markdown":
      return markdown();
    case "json":
      return json();
    case "toml":
      return StreamLanguage.define(toml);
    case "conf":
      return StreamLanguage.define(properties);
    default:
      return [];
  }
}

// Indentation as the file has it: tabs when more lines start with a tab than
// with spaces, else the most common step between indented lines (2, 4 or 8).
export function detectIndent(text) {
  let tabs = 0;
  let spaces = 0;
  const steps = new Map();
  let previous = 0;
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    if (line.startsWith("\t")) {
      tabs++;
      continue;
    }
    const width = line.length - line.trimStart().length;
    if (width > 0) spaces++;
    const step = Math.abs(width - previous);
    if (step > 1 && step <= 8) steps.set(step, (steps.get(step) || 0) + 1);
    previous = width;
  }
  if (tabs > spaces) return { unit: "\t", width: 4 };
  let best = 4;
  let bestCount = 0;
  for (const [step, n] of steps) {
    if (n > bestCount || (n === bestCount && step < best)) {
      best = step;
      bestCount = n;
    }
  }
  return { unit: " ".repeat(best), width: best };
}

const theme = EditorView.theme({
  "&": {
    color: "var(--fg)",
    backgroundColor: "var(--surface)",
    border: "1px solid var(--line)",
    borderRadius: "6px",
    fontSize: ".85rem",
    maxHeight: "75vh",
  },
  "&.cm-focused": { outline: "2px solid var(--accent)", outlineOffset: "-1px" },
  ".cm-scroller": { fontFamily: "ui-monospace, monospace", lineHeight: "1.45", overflow: "auto" },
  ".cm-content": { caretColor: "var(--fg)" },
  ".cm-cursor, .cm-dropCursor": { borderLeftColor: "var(--fg)" },
  "&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground, ::selection":
    { backgroundColor: "var(--info-bg)" },
  ".cm-gutters": {
    backgroundColor: "var(--surface-2)",
    color: "var(--muted)",
    borderRight: "1px solid var(--line)",
  },
  ".cm-activeLine": { backgroundColor: "var(--surface-2)" },
  ".cm-activeLineGutter": { backgroundColor: "var(--neutral-bg)", color: "var(--fg)" },
  ".cm-matchingBracket": { backgroundColor: "var(--ok-bg)", color: "var(--ok-fg)", outline: "1px solid var(--ok)" },
  ".cm-nonmatchingBracket": { backgroundColor: "var(--danger-bg)", color: "var(--danger-fg)" },
  ".cm-searchMatch": { backgroundColor: "var(--warn-bg)", outline: "1px solid var(--warn-line)" },
  ".cm-searchMatch.cm-searchMatch-selected": { backgroundColor: "var(--warn-line)" },
  ".cm-selectionMatch": { backgroundColor: "var(--neutral-bg)" },
  ".cm-panels": { backgroundColor: "var(--surface-2)", color: "var(--fg)" },
  ".cm-panels.cm-panels-top": { borderBottom: "1px solid var(--line)" },
  ".cm-panels.cm-panels-bottom": { borderTop: "1px solid var(--line)" },
  ".cm-panel.cm-search": { padding: ".3rem .5rem", fontFamily: "system-ui, sans-serif" },
  ".cm-panel.cm-search input, .cm-panel.cm-search button, .cm-panel.cm-search label": {
    fontSize: ".85rem",
    margin: ".15rem .3rem .15rem 0",
  },
  ".cm-textfield": {
    width: "auto",
    backgroundColor: "var(--surface)",
    color: "var(--fg)",
    border: "1px solid var(--line)",
    borderRadius: "4px",
    padding: ".1rem .3rem",
  },
  ".cm-button": {
    backgroundImage: "none",
    backgroundColor: "var(--surface)",
    color: "var(--accent)",
    border: "1px solid var(--button-bg)",
    borderRadius: "4px",
    padding: ".1rem .5rem",
  },
  ".cm-panel.cm-search label": { display: "inline", fontWeight: "normal" },
  ".cm-panel button[name=close]": { color: "var(--fg)", backgroundColor: "transparent", border: "0" },
  ".cm-lintRange-error": { backgroundImage: "none", textDecoration: "underline wavy var(--danger)" },
  ".cm-lintRange-warning": { backgroundImage: "none", textDecoration: "underline wavy var(--warn)" },
  ".cm-lintRange-info": { backgroundImage: "none", textDecoration: "underline dotted var(--accent)" },
  ".cm-tooltip": { backgroundColor: "var(--surface)", color: "var(--fg)", border: "1px solid var(--line)" },
  ".cm-diagnostic-error": { borderLeftColor: "var(--danger)" },
  ".cm-diagnostic-warning": { borderLeftColor: "var(--warn)" },
  ".cm-diagnostic-info": { borderLeftColor: "var(--accent)" },
  ".cm-line.cm-error-line": { backgroundColor: "var(--danger-bg)" },
  ".cm-foldPlaceholder": { backgroundColor: "var(--neutral-bg)", color: "var(--neutral-fg)", border: "0" },
});

const highlight = HighlightStyle.define([
  { tag: [t.keyword, t.controlKeyword, t.operatorKeyword, t.moduleKeyword, t.definitionKeyword], color: "var(--accent)", fontWeight: "600" },
  { tag: [t.string, t.special(t.string), t.regexp, t.monospace], color: "var(--ok-fg)" },
  { tag: [t.number, t.bool, t.null, t.atom], color: "var(--warn-fg)" },
  { tag: [t.comment, t.lineComment, t.blockComment, t.meta], color: "var(--muted)", fontStyle: "italic" },
  { tag: [t.function(t.definition(t.variableName)), t.definition(t.className), t.className], color: "var(--danger-fg)" },
  { tag: [t.propertyName, t.attributeName, t.labelName], color: "var(--info-fg)" },
  { tag: [t.heading, t.strong], fontWeight: "700", color: "var(--info-fg)" },
  { tag: t.emphasis, fontStyle: "italic" },
  { tag: [t.link, t.url], color: "var(--accent)", textDecoration: "underline" },
  { tag: t.invalid, color: "var(--danger)" },
]);

// Lines with an error the server reported get a background of their own, so
// the line stands out beyond the lint gutter's marker and the underline.
const setErrorLines = StateEffect.define();
const errorLines = StateField.define({
  create: () => Decoration.none,
  update(lines, tr) {
    lines = lines.map(tr.changes);
    for (const effect of tr.effects) {
      if (effect.is(setErrorLines)) {
        lines = Decoration.set(
          effect.value.map((pos) => Decoration.line({ class: "cm-error-line" }).range(pos)),
          true,
        );
      }
    }
    return lines;
  },
  provide: (field) => EditorView.decorations.from(field),
});

function readJson(id) {
  const el = id && document.getElementById(id);
  if (!el) return [];
  try {
    return JSON.parse(el.textContent || "[]");
  } catch {
    return [];
  }
}

// Diagnostics at 1-based lines (and columns): the server's syntax error and
// the verifier's findings for this file.
function diagnosticsFor(state, items) {
  const out = [];
  for (const item of items) {
    const n = Number(item.line);
    if (!Number.isInteger(n) || n < 1 || n > state.doc.lines) continue;
    const line = state.doc.line(n);
    const column = Number(item.column);
    // An error marks its whole line; the column is in the message.
    let from = line.from;
    if (item.severity !== "error" && Number.isInteger(column) && column > 0) {
      from = Math.min(line.from + column - 1, line.to);
    }
    const to = from < line.to ? line.to : from;
    out.push({
      from,
      to,
      severity: ["error", "warning", "info"].includes(item.severity) ? item.severity : "info",
      message: String(item.message || ""),
    });
  }
  return out;
}

function mark(view, items) {
  const diagnostics = diagnosticsFor(view.state, items);
  const starts = diagnostics
    .filter((d) => d.severity === "error")
    .map((d) => view.state.doc.lineAt(d.from).from);
  view.dispatch(setDiagnostics(view.state, diagnostics));
  view.dispatch({ effects: setErrorLines.of([...new Set(starts)].sort((a, b) => a - b)) });
  const first = items.find((i) => i.severity === "error" && Number(i.line) >= 1 && Number(i.line) <= view.state.doc.lines);
  if (first) {
    const line = view.state.doc.line(Number(first.line));
    view.dispatch({ selection: { anchor: line.from }, effects: EditorView.scrollIntoView(line.from, { y: "center" }) });
  }
}

function setUp(textarea) {
  if (textarea.dataset.editorReady) return;
  textarea.dataset.editorReady = "1";
  const form = textarea.form;
  const indent = detectIndent(textarea.value);
  const wrap = new Compartment();
  let wrapped = false;
  try {
    wrapped = window.localStorage.getItem(WRAP_KEY) === "1";
  } catch {
    wrapped = false;
  }
  let pending = 0;
  const sync = (view) => {
    window.clearTimeout(pending);
    textarea.value = view.state.doc.toString();
  };
  const label = textarea.getAttribute("aria-label") || (textarea.labels && textarea.labels[0] ? textarea.labels[0].textContent : "File contents");
  const view = new EditorView({
    parent: textarea.parentNode,
    state: EditorState.create({
      doc: textarea.value,
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        highlightSpecialChars(),
        history(),
        foldGutter(),
        drawSelection(),
        EditorState.allowMultipleSelections.of(true),
        indentOnInput(),
        bracketMatching(),
        rectangularSelection(),
        crosshairCursor(),
        highlightActiveLine(),
        highlightSelectionMatches(),
        search({ top: true }),
        lintGutter(),
        keymap.of([
          { key: "Mod-s", preventDefault: true, run: () => (form ? (form.requestSubmit(), true) : false) },
          ...defaultKeymap,
          ...searchKeymap,
          ...historyKeymap,
          ...foldKeymap,
          indentWithTab,
        ]),
        indentUnit.of(indent.unit),
        EditorState.tabSize.of(indent.width),
        languageFor(textarea.dataset.language || ""),
        syntaxHighlighting(highlight),
        theme,
        errorLines,
        wrap.of(wrapped ? EditorView.lineWrapping : []),
        EditorView.contentAttributes.of({ "aria-label": label.trim() }),
        EditorView.updateListener.of((update) => {
          if (!update.docChanged) return;
          window.clearTimeout(pending);
          pending = window.setTimeout(() => sync(update.view), 150);
        }),
      ],
    }),
  });
  textarea.parentNode.insertBefore(view.dom, textarea);
  textarea.hidden = true;
  textarea.editorView = view;
  view.dom.dataset.indent = indent.unit === "\t" ? "tab" : String(indent.width);

  // Write the text back before anything reads the form (capture phase: before
  // htmx's own submit handler on the form).
  if (form) {
    form.addEventListener("submit", () => sync(view), true);
    form.addEventListener("htmx:configRequest", (event) => {
      sync(view);
      if (event.detail && event.detail.parameters) {
        const params = event.detail.parameters;
        if (typeof params.set === "function") params.set(textarea.name, textarea.value);
        else params[textarea.name] = textarea.value;
      }
    });
  }

  const tools = form ? form.querySelector("[data-editor-tools]") : null;
  if (tools) {
    tools.hidden = false;
    const wrapButton = tools.querySelector("[data-editor-wrap]");
    if (wrapButton) {
      wrapButton.setAttribute("aria-pressed", String(wrapped));
      wrapButton.addEventListener("click", () => {
        wrapped = !wrapped;
        view.dispatch({ effects: wrap.reconfigure(wrapped ? EditorView.lineWrapping : []) });
        wrapButton.setAttribute("aria-pressed", String(wrapped));
        try {
          window.localStorage.setItem(WRAP_KEY, wrapped ? "1" : "0");
        } catch {
          /* private browsing: the toggle still works for this page */
        }
      });
    }
    const searchButton = tools.querySelector("[data-editor-search]");
    if (searchButton) searchButton.addEventListener("click", () => openSearchPanel(view));
    const indentNote = tools.querySelector("[data-editor-indent]");
    if (indentNote) indentNote.textContent = indent.unit === "\t" ? "Indent: tabs" : `Indent: ${indent.width} spaces`;
  }

  mark(view, [...readJson(textarea.dataset.findings), ...readJson(textarea.dataset.errors)]);

  // ?line=N (a finding's or a traceback's link) opens the editor on that line.
  const wanted = Number(textarea.dataset.line);
  if (Number.isInteger(wanted) && wanted >= 1 && wanted <= view.state.doc.lines) {
    const line = view.state.doc.line(wanted);
    view.dispatch({
      selection: { anchor: line.from, head: line.to },
      effects: EditorView.scrollIntoView(line.from, { y: "center" }),
    });
  }
}

// After a save answered in place (htmx swaps the status block), mark what the
// server found: a syntax error at its line and column, or the new findings.
function refreshMarks(root) {
  const status = root.matches && root.matches("[data-editor-status]") ? root : root.querySelector && root.querySelector("[data-editor-status]");
  if (!status) return;
  const textarea = document.getElementById(status.dataset.editorStatus);
  if (!textarea || !textarea.editorView) return;
  const items = [...readJson(status.dataset.findings), ...readJson(status.dataset.errors)];
  mark(textarea.editorView, items);
}

function start(root) {
  const scope = root && root.querySelectorAll ? root : document;
  for (const textarea of scope.querySelectorAll("textarea[data-editor]")) setUp(textarea);
  if (root && root !== document) refreshMarks(root);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => start(document));
else start(document);
document.addEventListener("htmx:load", (event) => start(event.target));
document.addEventListener("htmx:afterSwap", (event) => refreshMarks(event.target));
