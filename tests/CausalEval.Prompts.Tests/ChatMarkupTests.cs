using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using CausalEval.Prompts.Templates;

namespace CausalEval.Prompts.Tests;

/// <summary>
/// A message's text as <see cref="ChatMarkup"/> tidies it: the one-pass <c>Clean</c> gives what the definition (decode,
/// CRLF to LF, trim each line's end, collapse blank lines, trim newlines and spaces) written step by step gives.
/// </summary>
public partial class ChatMarkupTests
{
    [Theory]
    [InlineData("  Hello  \r\n\r\n\r\n  world\t \n\n", "Hello\n\n  world")]
    [InlineData("\n \n   \t\tx &amp; y&#10;&#10;&#10;z  ", "\t\tx & y\n\nz")]
    [InlineData("already clean\n\nparagraph", "already clean\n\nparagraph")]
    [InlineData(" \n\t\n ", "")]
    [InlineData("", "")]
    public void Cleaning_a_message_gives_the_hand_worked_text(string content, string expected) =>
        Assert.Equal(expected, ChatMarkup.Clean(content));

    [Fact]
    public void Cleaning_random_text_gives_what_the_step_by_step_definition_gives()
    {
        string[] pieces = [" ", "  ", "\n", "\r\n", "\r", "\t", "a", "word", "&amp;", "&lt;b&gt;", "&#10;", "&#13;&#10;", "\u00a0", "é"];
        var random = new Random(20261201);
        for (var i = 0; i < 5000; i++)
        {
            var content = RandomText(random, pieces);
            Assert.Equal(StepByStep(content), ChatMarkup.Clean(content));
        }
    }

    [Fact]
    public void A_parsed_messages_text_is_the_definitions_for_every_kind_of_entity()
    {
        // The escapes the template engine writes (decoded in place), and every other kind (decoded by WebUtility).
        string[] pieces =
        [
            " ", "\n", "\r\n", "\r", "\t", "a", "word", "é", "&amp;", "&lt;b&gt;", "&quot;", "&#x3D;", "&#X3d;", "&#x27;", "&#39;", "&#x60;",
            "&#10;", "&#13;", "&#xD;", "&#0;", "&#233;", "&#xe9;", "&#128512;", "&#xD83D;", "&#xFFFF;", "&#1234567;", "&apos;", "&copy;",
            "&nbsp;", "&", "&amp", ";", "&#;", "&#x;", "&#-5;", "&# 5;", "&#x3G;", "&AMP;",
        ];
        var random = new Random(20261202);
        for (var i = 0; i < 5000; i++)
        {
            var content = RandomText(random, pieces);
            var parsed = ChatMarkup.Parse($"<message role=\"user\">{content}</message>\n<message role=\"assistant\">{content}</message>", "test");

            Assert.Equal(2, parsed.Length);
            Assert.All(parsed, m => Assert.Equal(StepByStep(content), m.Content));
        }
    }

    [Fact]
    public void A_clean_text_is_returned_as_it_is()
    {
        var clean = "Experiment 1: do(A = 5)\n\nA = 5.00, B = -4.98";
        Assert.Same(clean, ChatMarkup.Clean(clean));
    }

    /// <summary>Up to 15 of <paramref name="pieces"/> drawn at random, joined.</summary>
    private static string RandomText(Random random, string[] pieces)
    {
        var text = new StringBuilder();
        for (var n = random.Next(0, 16); n > 0; n--)
        {
            text.Append(pieces[random.Next(pieces.Length)]);
        }
        return text.ToString();
    }

    // The definition, one step at a time (what Clean did before it became one pass).
    private static string StepByStep(string content)
    {
        var decoded = WebUtility.HtmlDecode(content).Replace("\r\n", "\n", StringComparison.Ordinal);
        var builder = new StringBuilder();
        foreach (var line in decoded.Split('\n'))
        {
            builder.Append(line.TrimEnd()).Append('\n');
        }
        return BlankLines().Replace(builder.ToString(), "\n\n").Trim('\n', ' ');
    }

    [GeneratedRegex(@"\n{3,}")]
    private static partial Regex BlankLines();
}
