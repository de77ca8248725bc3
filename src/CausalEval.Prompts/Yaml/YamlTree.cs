using CausalEval.Core;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace CausalEval.Prompts.Yaml;

/// <summary>A YAML value with the line it starts on (1-based), so a reader's errors can name <c>file:line</c>.</summary>
/// <param name="Line">The line the value starts on.</param>
public abstract record YamlValue(long Line)
{
    /// <summary>What the value is, for messages: <c>mapping</c>, <c>sequence</c> or <c>scalar</c>.</summary>
    public abstract string Kind { get; }
}

/// <summary>A mapping, its fields in file order.</summary>
/// <param name="Line">The line the mapping starts on.</param>
/// <param name="Children">The fields.</param>
public sealed record YamlMap(long Line, IReadOnlyList<YamlField> Children) : YamlValue(Line)
{
    /// <inheritdoc/>
    public override string Kind => "mapping";
}

/// <summary>One field of a mapping.</summary>
/// <param name="Key">The key (a scalar in the files we read).</param>
/// <param name="Value">The value.</param>
public sealed record YamlField(YamlValue Key, YamlValue Value);

/// <summary>A sequence.</summary>
/// <param name="Line">The line the sequence starts on.</param>
/// <param name="Children">The items.</param>
public sealed record YamlList(long Line, IReadOnlyList<YamlValue> Children) : YamlValue(Line)
{
    /// <inheritdoc/>
    public override string Kind => "sequence";
}

/// <summary>A scalar as written.</summary>
/// <param name="Line">The line of the scalar.</param>
/// <param name="Value">The text (null for an empty value).</param>
/// <param name="Plain">True when written without quotes (so <c>null</c>, <c>~</c> or nothing mean "no value").</param>
public sealed record YamlScalar(long Line, string? Value, bool Plain) : YamlValue(Line)
{
    /// <inheritdoc/>
    public override string Kind => "scalar";
}

/// <summary>
/// The one YAML reader (YamlDotNet lives in this project only): prompt templates and the CLI's plan files. The tree keeps
/// lines, so every problem can be reported as bad input naming the file, the line and the field.
/// </summary>
public static class YamlTree
{
    /// <summary>
    /// Parses the first document of <paramref name="text"/> read from <paramref name="source"/>; null when there is none.
    /// Invalid YAML is bad input naming <c>source:line</c>.
    /// </summary>
    public static YamlValue? Parse(string source, string text)
    {
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            return stream.Documents.Count == 0 ? null : Convert(stream.Documents[0].RootNode);
        }
        catch (YamlException ex)
        {
            throw new InputException($"{source}:{ex.Start.Line}", "$", $"not valid YAML: {ex.InnerException?.Message ?? ex.Message}");
        }
        catch (InvalidOperationException ex)
        {
            // YamlDotNet's scanner gives up this way on some unterminated flow collections, without a position.
            throw new InputException(source, "$", $"not valid YAML ({ex.Message}): look for an unclosed [ or {{");
        }
    }

    private static YamlValue Convert(YamlNode node) => node switch
    {
        YamlMappingNode map => new YamlMap(map.Start.Line, [.. map.Children.Select(c => new YamlField(Convert(c.Key), Convert(c.Value)))]),
        YamlSequenceNode list => new YamlList(list.Start.Line, [.. list.Children.Select(Convert)]),
        YamlScalarNode scalar => new YamlScalar(scalar.Start.Line, scalar.Value, scalar.Style == ScalarStyle.Plain),
        _ => new YamlScalar(node.Start.Line, null, false),
    };
}
