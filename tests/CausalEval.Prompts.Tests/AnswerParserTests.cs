using System.Collections.Immutable;
using System.Globalization;
using CausalEval.Prompts.Naming;
using CausalEval.Prompts.Parsing;

namespace CausalEval.Prompts.Tests;

/// <summary>
/// The answer table (DESIGN §2.3): what the strict parser (which scores) and the lenient one (recorded beside it) read
/// from each answer. Expected readings are world variables: "A=5", or null for "no action". Under the semantic map
/// the world's A…E are shown as "blood pressure", "Größe Ü", "température", "x", "heart rate (bpm)".
/// </summary>
public class AnswerParserTests
{
    private static readonly ImmutableArray<string> World = ["A", "B", "C", "D", "E"];
    private static readonly NameMap Letters = NameMap.Identity(World);
    private static readonly NameMap Semantic = new(NamingSchemes.Semantic, World, ["blood pressure", "Größe Ü", "température", "x", "heart rate (bpm)"]);

    public static TheoryData<string, string, bool, string?, string?> Actions => new()
    {
        // case, answer, semantic names?, strict, lenient
        { "exact", "ACTION: do(A = 5)", false, "A=5", "A=5" },
        { "negative value", "ACTION: do(B = -5)", false, "B=-5", "B=-5" },
        { "reasoning first", "B seems to drive E.\nSo I test it.\nACTION: do(B = 5)", false, "B=5", "B=5" },
        { "trailing blank lines", "ACTION: do(A = 5)\n\n\n", false, "A=5", "A=5" },
        { "trailing spaces", "ACTION: do(A = 5)   ", false, "A=5", "A=5" },
        { "CRLF line ends", "Let me think.\r\nACTION: do(C = 5)\r\n", false, "C=5", "C=5" },
        { "decimal value", "ACTION: do(A = 5.0)", false, "A=5", "A=5" },
        { "two ACTION lines", "ACTION: do(A = 5)\nACTION: do(B = -5)", false, null, "B=-5" },
        { "the same ACTION twice", "ACTION: do(A = 5)\nACTION: do(A = 5)", false, null, "A=5" },
        { "the target variable (the engine rejects it)", "ACTION: do(E = 5)", false, "E=5", "E=5" },
        { "a value not allowed (the engine rejects it)", "ACTION: do(A = 7)", false, "A=7", "A=7" },
        { "an unknown variable (the engine rejects it)", "ACTION: do(Z = 5)", false, "Z=5", "Z=5" },
        { "markdown bold line", "**ACTION: do(A = 5)**", false, null, "A=5" },
        { "markdown bold label", "**ACTION:** do(A = 5)", false, null, "A=5" },
        { "inline code", "`ACTION: do(A = 5)`", false, null, "A=5" },
        { "list item", "- ACTION: do(A = 5)", false, null, "A=5" },
        { "lower case", "action: do(a = 5)", false, null, "A=5" },
        { "title case label", "Action: do(C = -5)", false, null, "C=-5" },
        { "extra spaces", "ACTION:  do( A  =  5 )", false, null, "A=5" },
        { "no spaces", "ACTION: do(A=5)", false, null, "A=5" },
        { "plus sign", "ACTION: do(A = +5)", false, null, "A=5" },
        { "unicode minus", "ACTION: do(A = \u22125)", false, null, "A=-5" },
        { "full-width colon", "ACTION\uFF1Ado(A = 5)", false, null, "A=5" },
        { "no do()", "ACTION: A = 5", false, null, "A=5" },
        { "trailing period", "ACTION: do(A = 5).", false, null, "A=5" },
        { "text after the action", "ACTION: do(A = 5)\nI hope this helps.", false, null, "A=5" },
        { "bare do() in prose", "I would choose do(C = -5) here.", false, null, "C=-5" },
        { "two interventions in one line (lenient: the labelled one)", "ACTION: do(A = 5) and do(B = 5)", false, null, "A=5" },
        { "two variables in one do()", "ACTION: do(A = 5, B = 5)", false, null, null },
        { "value in words", "ACTION: do(A = five)", false, null, null },
        { "refusal", "I'm sorry, but I can't help with choosing interventions.", false, null, null },
        { "empty answer", "", false, null, null },
        { "whitespace only", "  \n\t \n", false, null, null },
        { "semantic name with a space", "ACTION: do(blood pressure = 5)", true, "A=5", "A=5" },
        { "semantic name, other case and spacing", "action: do(Blood  Pressure = -5)", true, null, "A=-5" },
        { "unicode name", "ACTION: do(Größe Ü = 5)", true, "B=5", "B=5" },
        { "unicode name, lower case (strict: not a shown name)", "ACTION: do(größe ü = 5)", true, "größe ü=5", "B=5" },
        { "accented name", "Reasoning…\nACTION: do(température = -5)", true, "C=-5", "C=-5" },
        { "name with parentheses", "ACTION: do(heart rate (bpm) = 5)", true, "E=5", "E=5" },
        { "one-letter shown name", "ACTION: do(x = 5)", true, "D=5", "D=5" },
        { "a world name that is not shown never reaches it", "ACTION: do(A = 5)", true, "?A=5", "?A=5" },
    };

    [Theory]
    [MemberData(nameof(Actions))]
    public void Both_parsers_read_each_answer_as_the_table_says(string @case, string answer, bool semantic, string? strict, string? lenient)
    {
        var parsed = AnswerParser.ParseAction(answer, semantic ? Semantic : Letters);

        Assert.True(strict == Show(parsed.Strict.Value), $"{@case}: strict read {Show(parsed.Strict.Value) ?? "nothing"} ({parsed.Strict.Error})");
        Assert.True(lenient == Show(parsed.Lenient.Value), $"{@case}: lenient read {Show(parsed.Lenient.Value) ?? "nothing"} ({parsed.Lenient.Error})");
        Assert.Equal(parsed.Strict.Value is null, parsed.Strict.Error is not null);
    }

    [Fact]
    public void The_table_has_at_least_thirty_answers() => Assert.True(Actions.Count >= 30);

    [Theory]
    [InlineData("", "the answer is empty")]
    [InlineData("ACTION: do(A = 5)\nACTION: do(B = 5)", "2 ACTION lines")]
    [InlineData("ACTION: do(A = 5)\nthanks", "the last line is not exactly ACTION: do(<variable> = <value>)")]
    [InlineData("I pick A", "no line of the form ACTION: do(<variable> = <value>) ends the answer")]
    public void Strict_errors_say_what_was_wrong(string answer, string error) =>
        Assert.Contains(error, AnswerParser.ParseAction(answer, Letters).Strict.Error);

    public static TheoryData<string, string, bool, string?, string?> Edges => new()
    {
        { "exact", "EDGES: A->B, C->E", false, "A->B, C->E", "A->B, C->E" },
        { "none", "EDGES: none", false, "", "" },
        { "reasoning first", "A moved B directly.\nEDGES: A->B", false, "A->B", "A->B" },
        { "lower case, semicolons, spaced arrows", "edges: a -> b; c -> e", false, null, "A->B, C->E" },
        { "unicode arrows", "EDGES: A → B, C → E", false, null, "A->B, C->E" },
        { "no space after comma", "EDGES: A->B,C->E", false, null, "A->B, C->E" },
        { "two EDGES lines", "EDGES: A->B\nEDGES: C->E", false, null, "C->E" },
        { "markdown", "**EDGES:** A->B", false, null, "A->B" },
        { "an unknown variable (the engine rejects it)", "EDGES: A->Z", false, "A->Z", "A->Z" },
        { "semantic names with spaces and parentheses", "EDGES: blood pressure->heart rate (bpm), Größe Ü->x", true, "A->E, B->D", "A->E, B->D" },
        { "prose only", "No edges at all, I think.", false, null, null },
        { "empty answer", "", false, null, null },
    };

    [Theory]
    [MemberData(nameof(Edges))]
    public void Both_parsers_read_each_structure_answer_as_the_table_says(string @case, string answer, bool semantic, string? strict, string? lenient)
    {
        var parsed = AnswerParser.ParseEdges(answer, semantic ? Semantic : Letters);

        Assert.True(strict == Show(parsed.Strict.Value), $"{@case}: strict read {Show(parsed.Strict.Value) ?? "nothing"} ({parsed.Strict.Error})");
        Assert.True(lenient == Show(parsed.Lenient.Value), $"{@case}: lenient read {Show(parsed.Lenient.Value) ?? "nothing"} ({parsed.Lenient.Error})");
    }

    private static string? Show(Core.Worlds.Intervention? action) =>
        action is { } a ? $"{a.Variable}={a.Value.ToString(CultureInfo.InvariantCulture)}" : null;

    private static string? Show(ImmutableArray<Core.Worlds.DirectedLink>? edges) => edges is { } e ? string.Join(", ", e) : null;
}
