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
            var text = new StringBuilder();
            for (var n = random.Next(0, 16); n > 0; n--)
            {
                text.Append(pieces[random.Next(pieces.Length)]);
            }
            var content = text.ToString();
            Assert.Equal(StepByStep(content), ChatMarkup.Clean(content));
        }
    }

    [Fact]
    public void A_clean_text_is_returned_as_it_is()
    {
        var clean = "Experiment 1: do(A = 5)\n\nA = 5.00, B = -4.98";
        Assert.Same(clean, ChatMarkup.Clean(clean));
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
