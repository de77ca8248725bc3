using System.Text.RegularExpressions;
using CausalEval.Core.OddOneOut;
using CausalEval.Prompts.Naming;

namespace CausalEval.Prompts.Parsing;

/// <summary>
/// Reads odd-one-out answers (DESIGN §1.7). <b>Strict</b>: the last non-empty line is exactly
/// <c>ACTION: transform(&lt;object&gt;, &lt;dimension&gt;)</c> or <c>ACTION: pick(&lt;object&gt;)</c> (the shown object name
/// as shown, the dimension as colour, texture or shape, one space after the comma) and no other line starts with
/// <c>ACTION:</c>. <b>Lenient</b>: the last transform or pick anywhere, ignoring case, markdown, spacing, quotes and a missing
/// <c>ACTION:</c>; "color" reads as colour; object names matched ignoring case and spacing. Which move the step asked for is
/// not checked here (the engine counts a pick where a transform was asked as invalid), nor whether the object exists.
/// </summary>
internal static partial class MoveParser
{
    public const string TransformFormat = "ACTION: transform(<object>, <dimension>)";
    public const string PickFormat = "ACTION: pick(<object>)";

    [GeneratedRegex(@"^ACTION: (?:transform\((?<object>[^,()]+), (?<dimension>colour|texture|shape)\)|pick\((?<object>[^,()]+)\))$")]
    private static partial Regex Strict();

    [GeneratedRegex(@"(?:\baction\b\s*[:=\-–]?\s*)?\b(?:(?<kind>transform)\s*\(\s*(?<object>[^,()\n]+?)\s*[,;]\s*(?<dimension>colou?r|texture|shape)\s*\)|(?<kind>pick)\s*\(\s*(?<object>[^,()\n]+?)\s*\))",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Lenient();

    public static Parsed<OddOneOutMove> Parse(string? answer, NameMap names) => new(StrictOf(answer, names), LenientOf(answer, names));

    internal static Reading<OddOneOutMove> StrictOf(string? answer, NameMap names)
    {
        if (string.IsNullOrWhiteSpace(answer))
        {
            return Reading<OddOneOutMove>.Failed("the answer is empty");
        }
        var lines = AnswerParser.Lines(answer);
        var actionLines = lines.Count(l => l.StartsWith("ACTION:", StringComparison.Ordinal));
        if (actionLines > 1)
        {
            return Reading<OddOneOutMove>.Failed($"the answer has {actionLines} ACTION lines; give exactly one, as the last line");
        }
        var match = Strict().Match(lines[^1]);
        if (!match.Success)
        {
            return Reading<OddOneOutMove>.Failed(actionLines == 1
                ? $"the last line is not exactly {TransformFormat} or {PickFormat}"
                : $"no line of the form {TransformFormat} or {PickFormat} ends the answer");
        }
        return Reading<OddOneOutMove>.Found(Move(match, names.Read(match.Groups["object"].Value)));
    }

    internal static Reading<OddOneOutMove> LenientOf(string? answer, NameMap names)
    {
        if (string.IsNullOrWhiteSpace(answer))
        {
            return Reading<OddOneOutMove>.Failed("the answer is empty");
        }
        Match? last = null;
        for (var m = Lenient().Match(AnswerParser.Normalize(answer)); m.Success; m = m.NextMatch())
        {
            last = m;
        }
        if (last is null)
        {
            return Reading<OddOneOutMove>.Failed("no transform(…) or pick(…) found");
        }
        var written = last.Groups["object"].Value.Trim();
        return Reading<OddOneOutMove>.Found(Move(last, names.Read(names.Resolve(written) ?? written)));
    }

    private static OddOneOutMove Move(Match match, string obj)
    {
        if (!match.Groups["dimension"].Success)
        {
            return OddOneOutMove.PickOf(obj);
        }
        var text = match.Groups["dimension"].Value.ToLowerInvariant();
        return OddOneOutMove.TransformOf(obj, text is "color" or "colour" ? Dimension.Colour : text == "texture" ? Dimension.Texture : Dimension.Shape);
    }
}
