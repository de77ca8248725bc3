using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using CausalEval.Core.Worlds;
using CausalEval.Prompts.Naming;

namespace CausalEval.Prompts.Parsing;

/// <summary>What one reading of an answer found: a value, or why there is none. Names are the ones the model wrote.</summary>
internal readonly record struct Reading<T>(T? Value, string? Error) where T : struct
{
    public static Reading<T> Found(T value) => new(value, null);

    public static Reading<T> Failed(string error) => new(null, error);
}

/// <summary>Both readings of one answer (DESIGN §2.3): the strict one scores, the lenient one is recorded beside it.</summary>
internal readonly record struct Parsed<T>(Reading<T> Strict, Reading<T> Lenient) where T : struct;

/// <summary>
/// Reads model answers. <b>Strict</b>: the last non-empty line is exactly <c>ACTION: do(&lt;variable&gt; = &lt;value&gt;)</c>
/// (one space each side of <c>=</c>, the shown name as shown, a plain number), and no other line starts with
/// <c>ACTION:</c>; for structure, exactly <c>EDGES: A->B, C->E</c> (or <c>EDGES: none</c>). <b>Lenient</b>: the last
/// action anywhere in the answer, ignoring case, markdown, spacing, quotes, a missing <c>do( )</c>, a leading <c>+</c>
/// or a unicode minus; names matched ignoring case and spacing. A name that is not shown is kept as written — the
/// engine then counts an invalid action, not a parse failure. Values are not checked here either.
/// </summary>
internal static partial class AnswerParser
{
    public const string ActionFormat = "ACTION: do(<variable> = <value>)";
    public const string EdgesFormat = "EDGES: A->B, C->E";

    [GeneratedRegex(@"^ACTION: do\((?<name>[^=]+) = (?<value>-?[0-9]+(?:\.[0-9]+)?)\)$")]
    private static partial Regex StrictAction();

    [GeneratedRegex(@"^EDGES: (?<list>.+)$")]
    private static partial Regex StrictEdges();

    // "action: do(X = 5)", "Action - X=5", "ACTION do (X = +5)"… (after markdown is removed).
    [GeneratedRegex(@"\baction\b\s*[:=\-–]?\s*(?:do\s*\(\s*(?<name>[^=\n()]+?(?:\([^=\n()]*\)[^=\n()]*?)*)\s*(?:=|:=|to)\s*(?<value>[+-]?\s*[0-9]+(?:\.[0-9]+)?)\s*\)|(?<name>[^=\n()]+?)\s*(?:=|:=|\bto\b)\s*(?<value>[+-]?\s*[0-9]+(?:\.[0-9]+)?)\b)",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex LenientAction();

    // A bare "do(X = 5)" anywhere, when no line is labelled as the action.
    [GeneratedRegex(@"\bdo\s*\(\s*(?<name>[^=\n()]+?(?:\([^=\n()]*\)[^=\n()]*?)*)\s*(?:=|:=)\s*(?<value>[+-]?\s*[0-9]+(?:\.[0-9]+)?)\s*\)",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex LenientDo();

    [GeneratedRegex(@"^\s*(?:[-*>#]+\s*)?edges\s*[:=\-–]?\s*(?<list>.*)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Multiline)]
    private static partial Regex LenientEdges();

    [GeneratedRegex(@"\s*(?:->|-->|→|⟶|=>)\s*")]
    private static partial Regex Arrow();

    public static Parsed<Intervention> ParseAction(string? answer, NameMap names) => new(StrictActionOf(answer, names), LenientActionOf(answer, names));

    public static Parsed<ImmutableArray<DirectedLink>> ParseEdges(string? answer, NameMap names) => new(StrictEdgesOf(answer, names), LenientEdgesOf(answer, names));

    internal static Reading<Intervention> StrictActionOf(string? answer, NameMap names)
    {
        if (string.IsNullOrWhiteSpace(answer))
        {
            return Reading<Intervention>.Failed("the answer is empty");
        }
        var lines = Lines(answer);
        var actionLines = lines.Count(l => l.StartsWith("ACTION:", StringComparison.Ordinal));
        if (actionLines > 1)
        {
            return Reading<Intervention>.Failed($"the answer has {actionLines} ACTION lines; give exactly one, as the last line: {ActionFormat}");
        }
        var match = StrictAction().Match(lines[^1]);
        if (!match.Success)
        {
            return Reading<Intervention>.Failed(actionLines == 1
                ? $"the last line is not exactly {ActionFormat}"
                : $"no line of the form {ActionFormat} ends the answer");
        }
        var value = double.Parse(match.Groups["value"].Value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
        return Reading<Intervention>.Found(new Intervention(names.Read(match.Groups["name"].Value), value));
    }

    internal static Reading<Intervention> LenientActionOf(string? answer, NameMap names)
    {
        if (string.IsNullOrWhiteSpace(answer))
        {
            return Reading<Intervention>.Failed("the answer is empty");
        }
        var text = Normalize(answer);
        var match = LastMatch(LenientAction(), text) ?? LastMatch(LenientDo(), text);
        if (match is null)
        {
            return Reading<Intervention>.Failed("no action found");
        }
        var written = match.Groups["name"].Value.Trim();
        var valueText = match.Groups["value"].Value.Replace(" ", "", StringComparison.Ordinal);
        if (!double.TryParse(valueText, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
        {
            return Reading<Intervention>.Failed($"'{valueText}' is not a number");
        }
        var shown = names.Resolve(written) ?? written;
        return Reading<Intervention>.Found(new Intervention(names.Read(shown), value + 0.0));
    }

    internal static Reading<ImmutableArray<DirectedLink>> StrictEdgesOf(string? answer, NameMap names)
    {
        if (string.IsNullOrWhiteSpace(answer))
        {
            return Reading<ImmutableArray<DirectedLink>>.Failed("the answer is empty");
        }
        var lines = Lines(answer);
        var edgeLines = lines.Count(l => l.StartsWith("EDGES:", StringComparison.Ordinal));
        if (edgeLines > 1)
        {
            return Reading<ImmutableArray<DirectedLink>>.Failed($"the answer has {edgeLines} EDGES lines; give exactly one, as the last line: {EdgesFormat}");
        }
        var match = StrictEdges().Match(lines[^1]);
        if (!match.Success)
        {
            return Reading<ImmutableArray<DirectedLink>>.Failed($"no line of the form {EdgesFormat} (or EDGES: none) ends the answer");
        }
        var list = match.Groups["list"].Value;
        if (list == "none")
        {
            return Reading<ImmutableArray<DirectedLink>>.Found([]);
        }
        var edges = ImmutableArray.CreateBuilder<DirectedLink>();
        foreach (var item in list.Split(", "))
        {
            var arrow = item.IndexOf("->", StringComparison.Ordinal);
            if (arrow <= 0 || arrow + 2 >= item.Length || item.IndexOf("->", arrow + 2, StringComparison.Ordinal) >= 0
                || item != item.Trim() || item.Contains(',', StringComparison.Ordinal))
            {
                return Reading<ImmutableArray<DirectedLink>>.Failed($"'{item}' is not an edge written as A->B (edges are separated by \", \")");
            }
            var from = item[..arrow];
            var to = item[(arrow + 2)..];
            if (from != from.Trim() || to != to.Trim())
            {
                return Reading<ImmutableArray<DirectedLink>>.Failed($"'{item}' has spaces around ->; write A->B");
            }
            edges.Add(new DirectedLink(names.Read(from), names.Read(to)));
        }
        return Reading<ImmutableArray<DirectedLink>>.Found(edges.ToImmutable());
    }

    internal static Reading<ImmutableArray<DirectedLink>> LenientEdgesOf(string? answer, NameMap names)
    {
        if (string.IsNullOrWhiteSpace(answer))
        {
            return Reading<ImmutableArray<DirectedLink>>.Failed("the answer is empty");
        }
        var match = LastMatch(LenientEdges(), Normalize(answer));
        if (match is null)
        {
            return Reading<ImmutableArray<DirectedLink>>.Failed("no EDGES line found");
        }
        var list = match.Groups["list"].Value.Trim().TrimEnd('.');
        if (list.Length == 0 || list.Equals("none", StringComparison.OrdinalIgnoreCase) || list.Equals("no edges", StringComparison.OrdinalIgnoreCase)
            || list == "[]" || list == "{}")
        {
            return Reading<ImmutableArray<DirectedLink>>.Found([]);
        }
        var edges = ImmutableArray.CreateBuilder<DirectedLink>();
        foreach (var raw in list.Trim('[', ']', '{', '}').Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = Arrow().Split(raw);
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
            {
                return Reading<ImmutableArray<DirectedLink>>.Failed($"'{raw}' is not an edge A->B");
            }
            var from = names.Resolve(parts[0].Trim()) ?? parts[0].Trim();
            var to = names.Resolve(parts[1].Trim()) ?? parts[1].Trim();
            edges.Add(new DirectedLink(names.Read(from), names.Read(to)));
        }
        return Reading<ImmutableArray<DirectedLink>>.Found(edges.ToImmutable());
    }

    /// <summary>Lines without trailing spaces or carriage returns, trailing empty lines dropped (never empty).</summary>
    internal static List<string> Lines(string answer)
    {
        var lines = answer.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').Select(l => l.TrimEnd()).ToList();
        while (lines.Count > 1 && lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1);
        }
        return lines;
    }

    /// <summary>Drops markdown emphasis and code marks; unifies minus signs and spaces.</summary>
    internal static string Normalize(string answer)
    {
        var builder = new StringBuilder(answer.Length);
        foreach (var c in answer.Replace("\r\n", "\n", StringComparison.Ordinal))
        {
            switch (c)
            {
                case '*' or '`':
                    break;
                case '\u2212' or '\u2013' or '\u2012' or '\uFE63' or '\uFF0D':
                    builder.Append('-');
                    break;
                case '\u00A0' or '\u2009' or '\u202F' or '\t':
                    builder.Append(' ');
                    break;
                case '\uFF1A':
                    builder.Append(':');
                    break;
                case '\uFF1D':
                    builder.Append('=');
                    break;
                default:
                    builder.Append(c);
                    break;
            }
        }
        return builder.ToString();
    }

    private static Match? LastMatch(Regex regex, string text)
    {
        Match? last = null;
        for (var m = regex.Match(text); m.Success; m = m.NextMatch())
        {
            last = m;
        }
        return last;
    }
}
