using System.Collections.Immutable;
using System.Net;
using System.Text.RegularExpressions;
using CausalEval.Core.Episodes;

namespace CausalEval.Prompts.Templates;

/// <summary>
/// Semantic Kernel's chat-prompt convention: a rendered prompt is a sequence of
/// <c>&lt;message role="system|user|assistant"&gt;…&lt;/message&gt;</c> blocks (a prompt without any is one user message).
/// Values inserted by <c>{{…}}</c> are XML/HTML-escaped by the template engine, so text a model or a dataset supplies can
/// never open or close a message; entities are decoded here. Each message is trimmed, its lines' trailing spaces dropped
/// and runs of blank lines collapsed to one, so templates can be laid out freely.
/// </summary>
internal static partial class ChatMarkup
{
    public static readonly ImmutableArray<string> Roles = ["system", "user", "assistant"];

    [GeneratedRegex("""<message\s+role\s*=\s*"(?<role>[^"]*)"\s*>(?<content>.*?)</message>""", RegexOptions.Singleline | RegexOptions.CultureInvariant)]
    private static partial Regex Message();

    /// <summary>Every message role written in a template's text (rendered or not) is one of <see cref="Roles"/>.</summary>
    public static void CheckRoles(string template, string source)
    {
        foreach (Match match in RoleAttribute().Matches(template))
        {
            var role = match.Groups["role"].Value;
            if (!Roles.Contains(role))
            {
                throw new FormatException($"{source}: message role '{role}' is not one of {string.Join(", ", Roles)}");
            }
        }
    }

    [GeneratedRegex("""<message\s+role\s*=\s*"(?<role>[^"]*)"\s*>""", RegexOptions.CultureInvariant)]
    private static partial Regex RoleAttribute();

    public static ImmutableArray<PromptMessage> Parse(string rendered, string source)
    {
        var messages = ImmutableArray.CreateBuilder<PromptMessage>();
        var position = 0;
        foreach (Match match in Message().Matches(rendered))
        {
            RequireBlank(rendered[position..match.Index], source);
            var role = match.Groups["role"].Value;
            if (!Roles.Contains(role))
            {
                throw new FormatException($"{source}: message role '{role}' is not one of {string.Join(", ", Roles)}");
            }
            messages.Add(new PromptMessage(role, Clean(match.Groups["content"].Value)));
            position = match.Index + match.Length;
        }
        if (messages.Count == 0)
        {
            return [new PromptMessage("user", Clean(rendered))];
        }
        RequireBlank(rendered[position..], source);
        return messages.ToImmutable();
    }

    /// <summary>A piece of a split rendering (<see cref="TurnTemplate"/>): nothing, or whole messages with only whitespace between.</summary>
    public static ImmutableArray<PromptMessage> ParsePiece(string rendered, string source)
    {
        if (string.IsNullOrWhiteSpace(rendered))
        {
            return [];
        }
        return Message().IsMatch(rendered) ? Parse(rendered, source) : throw new FormatException($"{source}: a turn renders text outside any <message> block");
    }

    private static void RequireBlank(string between, string source)
    {
        if (!string.IsNullOrWhiteSpace(between))
        {
            var text = between.Trim();
            throw new FormatException($"{source}: text outside any <message> block: \"{(text.Length > 60 ? text[..60] + "…" : text)}\"");
        }
    }

    /// <summary>
    /// The message text: entities decoded, CRLF as LF, each line's trailing whitespace dropped, runs of blank lines as one,
    /// leading and trailing newlines and spaces dropped. One pass, no copy when the text is already clean.
    /// </summary>
    internal static string Clean(string content)
    {
        var decoded = WebUtility.HtmlDecode(content).Replace("\r\n", "\n", StringComparison.Ordinal);
        var text = decoded.AsSpan();
        var rented = System.Buffers.ArrayPool<char>.Shared.Rent(text.Length);
        try
        {
            var length = 0;
            var blankLines = 0;
            var first = true;
            while (true)
            {
                var end = text.IndexOf('\n');
                var line = (end < 0 ? text : text[..end]).TrimEnd();
                if (first)
                {
                    // Spaces (only) that lead the first line with text go, as do the blank lines before it.
                    line = line.TrimStart(' ');
                }
                if (line.IsEmpty)
                {
                    blankLines++;
                }
                else
                {
                    if (!first)
                    {
                        rented[length++] = '\n';
                        if (blankLines > 0)
                        {
                            rented[length++] = '\n';
                        }
                    }
                    line.CopyTo(rented.AsSpan(length));
                    length += line.Length;
                    first = false;
                    blankLines = 0;
                }
                if (end < 0)
                {
                    break;
                }
                text = text[(end + 1)..];
            }
            var cleaned = rented.AsSpan(0, length);
            return cleaned.SequenceEqual(decoded) ? decoded : new string(cleaned);
        }
        finally
        {
            System.Buffers.ArrayPool<char>.Shared.Return(rented);
        }
    }
}
