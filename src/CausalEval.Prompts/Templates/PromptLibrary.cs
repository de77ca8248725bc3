using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using CausalEval.Core;
using CausalEval.Core.Tasks;
using CausalEval.Prompts.Naming;
using Microsoft.SemanticKernel;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace CausalEval.Prompts.Templates;

/// <summary>A loaded prompt template: SK's config (from the YAML file) and the template SK's factory made from it.</summary>
internal sealed record PromptTemplateEntry(string Family, string Variant, string Path, PromptTemplateConfig Config, IPromptTemplate Template)
{
    /// <summary><c>execution_settings.default.&lt;key&gt;</c> as a number, when the file sets it.</summary>
    public double? DefaultSetting(string key)
    {
        if (!Config.ExecutionSettings.TryGetValue(PromptExecutionSettings.DefaultServiceId, out var settings) || settings.ExtensionData is null
            || !settings.ExtensionData.TryGetValue(key, out var value) || value is null)
        {
            return null;
        }
        return value switch
        {
            JsonElement { ValueKind: JsonValueKind.Number } e => e.GetDouble(),
            JsonElement { ValueKind: JsonValueKind.String } e when double.TryParse(e.GetString(), CultureInfo.InvariantCulture, out var d) => d,
            IConvertible c => c.ToDouble(CultureInfo.InvariantCulture),
            _ => null,
        };
    }
}

/// <summary>
/// The prompt folder: <c>&lt;root&gt;/&lt;task-family&gt;/&lt;variant&gt;.yaml</c> in Semantic Kernel's prompt-template config shape
/// (name, description, template_format, template, input_variables, execution_settings) and
/// <c>&lt;root&gt;/names/&lt;scheme&gt;.txt</c> (one name a line). YAML is read with YamlDotNet and handed to SK as the
/// equivalent JSON (<see cref="PromptTemplateConfig.FromJson(string)"/>); templates are made by SK's
/// <see cref="IPromptTemplateFactory"/> contract with <see cref="HandlebarsPromptTemplateFactory"/>.
/// </summary>
public sealed class PromptLibrary
{
    /// <summary>The environment variable naming another prompt folder.</summary>
    public const string EnvironmentVariable = "CAUSALEVAL_PROMPTS";
    /// <summary>The prompt variant played when none is given.</summary>
    public const string DefaultVariant = "few-shot-explanations-reasoning";

    /// <summary>The variants every family ships, from least to most help.</summary>
    public static readonly ImmutableArray<string> StandardVariants = ["zero-shot", "few-shot", "few-shot-explanations", DefaultVariant];

    /// <summary>The task families that have templates.</summary>
    public static readonly ImmutableArray<string> Families = [TaskDefinition.ExploreExploitFamily, TaskDefinition.PassiveExploitFamily, TaskDefinition.OddOneOutFamily];

    private readonly IPromptTemplateFactory _factory;
    private readonly ConcurrentDictionary<(string, string), PromptTemplateEntry> _templates = new();
    private readonly ConcurrentDictionary<string, IReadOnlyList<string>> _names = new(StringComparer.Ordinal);

    /// <summary>The templates under <paramref name="root"/> (a folder with one subfolder per family), rendered by <paramref name="factory"/> (default Handlebars).</summary>
    public PromptLibrary(string root, IPromptTemplateFactory? factory = null)
    {
        Root = root;
        _factory = factory ?? new HandlebarsPromptTemplateFactory();
    }

    /// <summary>The prompt folder.</summary>
    public string Root { get; }

    /// <summary>$CAUSALEVAL_PROMPTS, else ./prompts (the repository's, from its root), else the copy next to the executable.</summary>
    public static PromptLibrary Locate()
    {
        var candidates = new[]
        {
            Environment.GetEnvironmentVariable(EnvironmentVariable),
            Path.Combine(Directory.GetCurrentDirectory(), "prompts"),
            Path.Combine(AppContext.BaseDirectory, "prompts"),
        };
        var found = candidates.FirstOrDefault(c => !string.IsNullOrEmpty(c) && Directory.Exists(Path.Combine(c, TaskDefinition.ExploreExploitFamily)));
        return new PromptLibrary(found ?? throw new InputException(EnvironmentVariable, "prompts", "no prompts folder found (set CAUSALEVAL_PROMPTS)"));
    }

    /// <summary>Variants the folder has for <paramref name="family"/>, sorted.</summary>
    public IReadOnlyList<string> Variants(string family)
    {
        var folder = Path.Combine(Root, family);
        return Directory.Exists(folder)
            ? [.. Directory.EnumerateFiles(folder, "*.yaml").Select(Path.GetFileNameWithoutExtension).OfType<string>().Order(StringComparer.Ordinal)]
            : [];
    }

    /// <summary>Checks that every variant exists (and loads) for every family, reporting the first problem as bad input.</summary>
    public void Check(IEnumerable<string> variants, IEnumerable<string> families)
    {
        foreach (var family in families.Distinct())
        {
            foreach (var variant in variants)
            {
                Get(family, variant);
            }
        }
    }

    internal PromptTemplateEntry Get(string family, string variant) => _templates.GetOrAdd((family, variant), key => Load(key.Item1, key.Item2));

    private PromptTemplateEntry Load(string family, string variant)
    {
        var path = Path.Combine(Root, family, variant + ".yaml");
        if (variant.Contains('/') || variant.Contains('\\') || !File.Exists(path))
        {
            throw new InputException("--prompt", variant, $"no template {family}/{variant}.yaml in {Root} (known: {string.Join(", ", Variants(family))})");
        }
        var config = ReadConfig(path);
        IPromptTemplate? template;
        try
        {
            if (!_factory.TryCreate(config, out template))
            {
                throw new InputException(path, "template_format", $"'{config.TemplateFormat}' is not supported (use {HandlebarsPromptTemplateFactory.Format})");
            }
            CheckRenders(template, config, path);
        }
        catch (HandlebarsDotNet.HandlebarsException ex)
        {
            // Compile errors (an unclosed block), unknown helpers: found once, before any run folder exists, not on every trial.
            throw new InputException(path, "template", $"the Handlebars template does not compile or render: {ex.Message}");
        }
        return new PromptTemplateEntry(family, variant, path, config, template);
    }

    /// <summary>
    /// A dry render with no arguments (missing values render empty): it calls every helper outside untaken branches, so
    /// an unknown one fails here; and every <c>&lt;message role="…"&gt;</c> the template text holds, taken or not, must
    /// be a role the chat clients take.
    /// </summary>
    private static void CheckRenders(IPromptTemplate template, PromptTemplateConfig config, string path)
    {
        try
        {
            ChatMarkup.CheckRoles(config.Template, path);
            var rendered = template.RenderAsync(CheckKernel, new KernelArguments()).GetAwaiter().GetResult();
            ChatMarkup.Parse(rendered, path);
        }
        catch (FormatException ex)
        {
            throw new InputException(path, "template", ex.Message.StartsWith(path, StringComparison.Ordinal) ? ex.Message[(path.Length + 2)..] : ex.Message);
        }
    }

    private static readonly Kernel CheckKernel = new();

    /// <summary>Reads a YAML prompt file into SK's config; a malformed file is bad input naming file, line and field.</summary>
    internal static PromptTemplateConfig ReadConfig(string path)
    {
        JsonNode? json;
        try
        {
            using var reader = new StreamReader(path);
            var stream = new YamlStream();
            stream.Load(reader);
            if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode)
            {
                throw new InputException(path, "$", "expected one YAML mapping (name, template_format, template, …)");
            }
            json = ToJson(stream.Documents[0].RootNode);
        }
        catch (YamlException ex)
        {
            throw new InputException($"{path}:{ex.Start.Line}", "$", ex.InnerException?.Message ?? ex.Message);
        }
        PromptTemplateConfig config;
        try
        {
            config = PromptTemplateConfig.FromJson(json!.ToJsonString());
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException)
        {
            throw new InputException(path, "$", ex.Message);
        }
        if (string.IsNullOrWhiteSpace(config.Template))
        {
            throw new InputException(path, "template", "missing or empty");
        }
        return config;
    }

    /// <summary>YAML → JSON: plain scalars that read as null, booleans or numbers become those; everything else strings.</summary>
    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value ?? "", ToJson(c.Value)))),
        YamlSequenceNode list => new JsonArray([.. list.Children.Select(ToJson)]),
        YamlScalarNode { Style: ScalarStyle.Plain } scalar => Plain(scalar.Value ?? ""),
        YamlScalarNode scalar => JsonValue.Create(scalar.Value ?? ""),
        _ => throw new YamlException(node.Start, node.End, "aliases and tags are not supported"),
    };

    private static JsonNode? Plain(string value)
    {
        if (value is "" or "~" or "null" or "Null" or "NULL")
        {
            return null;
        }
        if (value is "true" or "True" or "TRUE" or "false" or "False" or "FALSE")
        {
            return JsonValue.Create(value.Equals("true", StringComparison.OrdinalIgnoreCase));
        }
        if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            return JsonValue.Create(integer);
        }
        return double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) ? JsonValue.Create(number) : JsonValue.Create(value);
    }

    /// <summary>The committed name list of a naming scheme (null for letters, which keeps the world's names).</summary>
    public IReadOnlyList<string>? Names(string scheme)
    {
        if (scheme == NamingSchemes.Letters)
        {
            return null;
        }
        if (!NamingSchemes.All.Contains(scheme))
        {
            throw new InputException("--names", scheme, $"unknown naming scheme (known: {string.Join(", ", NamingSchemes.All)})");
        }
        return _names.GetOrAdd(scheme, ReadNames);
    }

    private IReadOnlyList<string> ReadNames(string scheme)
    {
        var path = Path.Combine(Root, "names", scheme + ".txt");
        if (!File.Exists(path))
        {
            throw new InputException(path, "$", "the name list does not exist");
        }
        var names = new List<string>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            var name = line.Trim();
            if (name.Length == 0 || name.StartsWith('#'))
            {
                continue;
            }
            if (name.Contains('=') || name.Contains(',') || name.Contains("->", StringComparison.Ordinal) || name.Contains('<') || name.Contains('>'))
            {
                throw new InputException($"{path}:{lineNumber}", "name", $"'{name}' contains '=', ',', '->', '<' or '>'");
            }
            if (names.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                throw new InputException($"{path}:{lineNumber}", "name", $"'{name}' is listed twice");
            }
            names.Add(name);
        }
        return names.Count >= 8 ? names : throw new InputException(path, "$", $"needs at least 8 names (8 variables at most), has {names.Count}");
    }
}
