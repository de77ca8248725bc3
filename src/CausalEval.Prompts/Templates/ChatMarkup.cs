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

    public static ImmutableArray<PromptMessage> Parse(string rendered, string source) => Parse(rendered, source, piece: false);

    /// <summary>A piece of a split rendering (<see cref="TurnTemplate"/>): nothing, or whole messages with only whitespace between.</summary>
    public static ImmutableArray<PromptMessage> ParsePiece(string rendered, string source) =>
        string.IsNullOrWhiteSpace(rendered) ? [] : Parse(rendered, source, piece: true);

    private static ImmutableArray<PromptMessage> Parse(string rendered, string source, bool piece)
    {
        var messages = ImmutableArray.CreateBuilder<PromptMessage>();
        var position = 0;
        foreach (Match match in Message().Matches(rendered))
        {
            RequireBlank(rendered.AsSpan(position, match.Index - position), source);
            var role = match.Groups["role"];
            var known = KnownRole(role.ValueSpan)
                ?? throw new FormatException($"{source}: message role '{role.Value}' is not one of {string.Join(", ", Roles)}");
            messages.Add(new PromptMessage(known, Clean(match.Groups["content"])));
            position = match.Index + match.Length;
        }
        if (messages.Count == 0)
        {
            return piece
                ? throw new FormatException($"{source}: a turn renders text outside any <message> block")
                : [new PromptMessage("user", Clean(rendered))];
        }
        RequireBlank(rendered.AsSpan(position), source);
        return messages.ToImmutable();
    }

    private static string? KnownRole(ReadOnlySpan<char> role)
    {
        foreach (var known in Roles)
        {
            if (role.SequenceEqual(known))
            {
                return known;
            }
        }
        return null;
    }

    private static void RequireBlank(ReadOnlySpan<char> between, string source)
    {
        if (!between.IsWhiteSpace())
        {
            var text = between.Trim().ToString();
            throw new FormatException($"{source}: text outside any <message> block: \"{(text.Length > 60 ? text[..60] + "…" : text)}\"");
        }
    }

    /// <summary>
    /// <see cref="Clean(string)"/> of a message's content, read in place: the escapes the template engine writes (the five
    /// named ones of XML but <c>&amp;apos;</c>, and numeric ones of characters outside the surrogates) are decoded as
    /// <see cref="WebUtility.HtmlDecode(string)"/> decodes them, into a pooled buffer, and only the tidied text becomes a
    /// string. Content with any other entity, or a carriage return, goes the general way.
    /// </summary>
    private static string Clean(Group content)
    {
        var text = content.ValueSpan;
        if (text.Contains('\r'))
        {
            return Clean(content.Value);
        }
        if (!text.Contains('&'))
        {
            return Tidy(text) ?? content.Value;
        }
        var decoded = System.Buffers.ArrayPool<char>.Shared.Rent(text.Length);
        try
        {
            return DecodeKnown(text, decoded) is { } length
                ? Tidy(decoded.AsSpan(0, length)) ?? new string(decoded, 0, length)
                : Clean(content.Value);
        }
        finally
        {
            System.Buffers.ArrayPool<char>.Shared.Return(decoded);
        }
    }

    /// <summary>The text with its escapes decoded into <paramref name="output"/>: its length, or null at an escape not decoded here.</summary>
    internal static int? DecodeKnown(ReadOnlySpan<char> text, Span<char> output)
    {
        var length = 0;
        while (true)
        {
            var amp = text.IndexOf('&');
            if (amp < 0)
            {
                text.CopyTo(output[length..]);
                return length + text.Length;
            }
            text[..amp].CopyTo(output[length..]);
            length += amp;
            text = text[amp..];
            var semicolon = text.IndexOf(';');
            if (semicolon < 0 || Entity(text[1..semicolon]) is not { } decoded)
            {
                return null;
            }
            output[length++] = decoded;
            text = text[(semicolon + 1)..];
        }
    }

    private static char? Entity(ReadOnlySpan<char> name)
    {
        switch (name)
        {
            case "amp":
                return '&';
            case "lt":
                return '<';
            case "gt":
                return '>';
            case "quot":
                return '"';
        }
        if (name.Length < 2 || name.Length > 7 || name[0] != '#')
        {
            return null;
        }
        var hex = name[1] is 'x' or 'X';
        var digits = name[(hex ? 2 : 1)..];
        if (digits.IsEmpty || (hex ? digits.ContainsAnyExcept(HexDigits) : digits.ContainsAnyExceptInRange('0', '9')))
        {
            return null;
        }
        var value = uint.Parse(digits, hex ? System.Globalization.NumberStyles.AllowHexSpecifier : System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture);
        // Characters of the basic plane outside the surrogates, and not NUL or CR (those the general way handles).
        return value is > 0 and < 0xD800 and not 0xD or >= 0xE000 and <= 0xFFFF ? (char)value : null;
    }

    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdefABCDEF");

    /// <summary>
    /// The message text: entities decoded, CRLF as LF, each line's trailing whitespace dropped, runs of blank lines as one,
    /// leading and trailing newlines and spaces dropped. One pass, no copy when the text is already clean.
    /// </summary>
    internal static string Clean(string content)
    {
        var decoded = WebUtility.HtmlDecode(content).Replace("\r\n", "\n", StringComparison.Ordinal);
        return Tidy(decoded) ?? decoded;
    }

    /// <summary>The text tidied (see <see cref="Clean(string)"/>, entities aside); null when it is tidy already.</summary>
    private static string? Tidy(ReadOnlySpan<char> text)
    {
        var original = text;
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
            return cleaned.SequenceEqual(original) ? null : new string(cleaned);
        }
        finally
        {
            System.Buffers.ArrayPool<char>.Shared.Return(rented);
        }
    }
}
