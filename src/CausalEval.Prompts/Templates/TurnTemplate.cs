using System.Text;
using System.Text.RegularExpressions;

namespace CausalEval.Prompts.Templates;

/// <summary>A prompt template that can render a conversation by turn (null <see cref="Turns"/>: only whole).</summary>
internal interface ITurnTemplated
{
    /// <summary>The split template, or null when the template is rendered whole at every step.</summary>
    TurnTemplate? Turns { get; }
}

/// <summary>
/// A conversation template split so that a step renders only what is new. The shipped templates are
/// <c>HEAD {{#each turns}}BODY{{/each}}</c>: the head (system prompt, few-shot examples) reads only arguments that are
/// fixed for an episode, and each turn's messages read only that turn and the fixed arguments. So the head is rendered
/// once per episode and each step renders the turn just answered (to append what follows the answer) and the new one,
/// instead of the whole conversation, whose cost grows with the examples and every earlier answer.
/// <para>
/// The split is made only when it cannot change what is rendered: the <c>{{#each turns}}</c> block is at the top level
/// with nothing but whitespace after it; the head (outside its inline partials) names neither <c>turns</c> nor
/// <c>phase</c> (the arguments that change between steps); the body and the inline partials use neither <c>@last</c>
/// (true only for the newest turn), <c>@root</c> nor a parent path (<c>..</c>) to <c>turns</c> or <c>phase</c>. Other
/// templates are rendered whole at every step, as before. The turn template is the head's inline partials followed by
/// <c>{{#each turns}}{{#if this}}BODY{{/if}}{{/each}}</c>, rendered with every turn but the wanted one left null, so
/// <c>@index</c>, <c>@first</c> and parent paths mean what they mean in the whole template.
/// </para>
/// </summary>
internal sealed partial class TurnTemplate
{
    /// <summary>How many steps of each template a process also renders whole and compares before it trusts the split.</summary>
    public const int DefaultStepsChecked = 32;

    private readonly Func<object, string> _head;
    private readonly Func<object, string> _turns;
    private readonly int _stepsChecked;
    private int _checked;
    private volatile bool _disabled;

    private TurnTemplate(Func<object, string> head, Func<object, string> turns, int stepsChecked)
    {
        _head = head;
        _turns = turns;
        _stepsChecked = stepsChecked;
    }

    /// <summary>False once a check found the split rendering differ from the whole one: the template is then rendered whole.</summary>
    public bool Enabled => !_disabled;

    /// <summary>Whether this step should also be rendered whole and compared (a template's first steps in a process).</summary>
    public bool NeedsCheck => Volatile.Read(ref _checked) < _stepsChecked;

    /// <summary>Counts a step whose split rendering matched the whole one.</summary>
    public void Checked() => Interlocked.Increment(ref _checked);

    /// <summary>Renders whole from now on (a check found a difference, or a piece did not parse).</summary>
    public void Disable() => _disabled = true;

    /// <summary>The head: everything before the turns (the arguments' <c>turns</c> are not read).</summary>
    public string RenderHead(IDictionary<string, object?> arguments) => _head(arguments);

    /// <summary>Turn <paramref name="index"/> alone, as the whole template renders it among <paramref name="turns"/>.</summary>
    public string RenderTurn(IDictionary<string, object?> arguments, IReadOnlyList<Dictionary<string, object?>?> turns, int index) =>
        Turns(arguments, turns).Render(index);

    /// <summary>Renders turns of one step's arguments one at a time, from one copy of the arguments.</summary>
    public TurnRenderer Turns(IDictionary<string, object?> arguments, IReadOnlyList<Dictionary<string, object?>?> turns) => new(_turns, arguments, turns);

    /// <summary>Single turns of one step's arguments (<see cref="RenderTurn"/>); one at a time.</summary>
    internal sealed class TurnRenderer
    {
        private readonly Func<object, string> _template;
        private readonly IReadOnlyList<Dictionary<string, object?>?> _turns;
        private readonly Dictionary<string, object?>?[] _only;
        private readonly Dictionary<string, object?> _context;

        public TurnRenderer(Func<object, string> template, IDictionary<string, object?> arguments, IReadOnlyList<Dictionary<string, object?>?> turns)
        {
            _template = template;
            _turns = turns;
            _only = new Dictionary<string, object?>?[turns.Count];
            _context = new Dictionary<string, object?>(arguments, StringComparer.Ordinal) { ["turns"] = _only };
        }

        /// <summary>Turn <paramref name="index"/> alone, with every other turn left null.</summary>
        public string Render(int index)
        {
            _only[index] = _turns[index] ?? throw new ArgumentException($"turn {index} has no arguments", nameof(index));
            try
            {
                return _template(_context);
            }
            finally
            {
                _only[index] = null;
            }
        }
    }

    /// <summary>The split of <paramref name="template"/>, compiled by <paramref name="compile"/>; null when it cannot be split safely.</summary>
    /// <param name="template">The template's text.</param>
    /// <param name="compile">Compiles a template text.</param>
    /// <param name="stepsChecked">Steps also rendered whole and compared before the split is trusted.</param>
    public static TurnTemplate? TrySplit(string template, Func<string, Func<object, string>> compile, int stepsChecked = DefaultStepsChecked)
    {
        if (Split(template) is not var (head, turns))
        {
            return null;
        }
        return new TurnTemplate(compile(head), compile(turns), stepsChecked);
    }

    /// <summary>The head template and the turn template, or null (see the type's remarks for when).</summary>
    internal static (string Head, string Turns)? Split(string template)
    {
        if (Tokens(template) is not { } tokens)
        {
            return null;
        }
        var stack = new Stack<string>();
        int? open = null, close = null;
        var partials = new List<(int Start, int End)>();
        int? partialStart = null;
        for (var t = 0; t < tokens.Count; t++)
        {
            var inner = tokens[t].Inner;
            if (BlockOpen().Match(inner) is { Success: true } opening)
            {
                var name = opening.Groups["name"].Value;
                if (stack.Count == 0 && inner == "#each turns")
                {
                    if (open is not null)
                    {
                        return null;
                    }
                    open = t;
                }
                else if (stack.Count == 0 && opening.Groups["star"].Success && name == "inline" && open is null)
                {
                    partialStart = tokens[t].Start;
                }
                stack.Push(name);
            }
            else if (inner.StartsWith('/'))
            {
                if (stack.Count == 0 || stack.Pop() != inner[1..].Trim())
                {
                    return null;
                }
                if (stack.Count == 0 && open is not null && close is null)
                {
                    close = t;
                }
                if (stack.Count == 0 && partialStart is { } start)
                {
                    partials.Add((start, tokens[t].End));
                    partialStart = null;
                }
            }
            else if (stack.Count == 1 && open is not null && close is null && (inner == "else" || inner.StartsWith("else ", StringComparison.Ordinal) || inner == "^"))
            {
                return null; // the each's own else branch would render for the turns left out
            }
        }
        if (stack.Count != 0 || open is not { } o || close is not { } c)
        {
            return null;
        }
        var openToken = tokens[o];
        var closeToken = tokens[c];
        var head = template[..openToken.Start];
        var body = template[openToken.End..closeToken.Start];
        if (!string.IsNullOrWhiteSpace(template[closeToken.End..]))
        {
            return null;
        }
        // Whole lines, so that each definition stays a standalone tag as it is in the head (Handlebars drops such lines).
        partials = [.. partials.Select(p => Lines(template, p.Start, p.End))];
        var partialText = string.Concat(partials.Select(p => template[p.Start..p.End]));
        var headOutsidePartials = new StringBuilder(head);
        foreach (var (start, end) in partials.OrderByDescending(p => p.Start))
        {
            headOutsidePartials.Remove(start, end - start);
        }
        if (Tokens(headOutsidePartials.ToString())!.Any(k => ChangingArgument().IsMatch(k.Inner))
            || Tokens(body + partialText)!.Any(k => WholeListReference().IsMatch(k.Inner)))
        {
            return null;
        }
        return (head, partialText + "{{#each turns}}{{#if this}}" + body + "{{/if}}{{/each}}");
    }

    /// <summary>The span widened to whole lines when only whitespace shares its first and last line.</summary>
    private static (int Start, int End) Lines(string text, int start, int end)
    {
        var lineStart = text.LastIndexOf('\n', Math.Max(0, start - 1)) + 1;
        if (start > 0 && !string.IsNullOrWhiteSpace(text[lineStart..start]))
        {
            lineStart = start;
        }
        var lineEnd = text.IndexOf('\n', end);
        lineEnd = lineEnd < 0 ? text.Length : lineEnd + 1;
        if (!string.IsNullOrWhiteSpace(text[end..lineEnd]))
        {
            lineEnd = end;
        }
        return (lineStart, lineEnd);
    }

    private readonly record struct Token(int Start, int End, string Inner);

    /// <summary>The mustaches of a template (comments left out), or null for what this reader does not follow (raw blocks, whitespace control).</summary>
    private static List<Token>? Tokens(string template)
    {
        var tokens = new List<Token>();
        var at = 0;
        while ((at = template.IndexOf("{{", at, StringComparison.Ordinal)) >= 0)
        {
            if (at > 0 && template[at - 1] == '\\')
            {
                return null; // an escaped mustache: leave such templates whole
            }
            if (template.AsSpan(at).StartsWith("{{{{"))
            {
                return null;
            }
            string end;
            if (template.AsSpan(at).StartsWith("{{!--"))
            {
                end = "--}}";
            }
            else if (template.AsSpan(at).StartsWith("{{{"))
            {
                end = "}}}";
            }
            else
            {
                end = "}}";
            }
            var stop = template.IndexOf(end, at + 2, StringComparison.Ordinal);
            if (stop < 0)
            {
                return null;
            }
            var inner = template[(at + 2)..stop].Trim();
            if (inner.StartsWith('~') || inner.EndsWith('~'))
            {
                return null;
            }
            if (!inner.StartsWith('!'))
            {
                tokens.Add(new Token(at, stop + end.Length, inner));
            }
            at = stop + end.Length;
        }
        return tokens;
    }

    // A block opening: {{#name …}}, {{#*inline …}}, {{#> partial}}, {{^name}} (not the bare {{^}}, which is an else).
    [GeneratedRegex(@"^(#(?<star>\*)?>?\s*|\^\s*(?=\S))(?<name>[^\s}]+)", RegexOptions.CultureInvariant)]
    private static partial Regex BlockOpen();

    [GeneratedRegex(@"\b(turns|phase)\b", RegexOptions.CultureInvariant)]
    private static partial Regex ChangingArgument();

    [GeneratedRegex(@"@last|@root|\.\.(?!/)|\.\./(\.\./)*\s*(turns|phase)\b", RegexOptions.CultureInvariant)]
    private static partial Regex WholeListReference();
}
