using System.Collections.Immutable;
using CausalEval.Core.Episodes;
using CausalEval.Core.Json;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Tasks;

/// <summary>Reads <c>task.json</c> (<see cref="TaskFile"/>) with a clear message for every problem.</summary>
public static class TaskJson
{
    public static TaskDefinition Load(string path) => Parse(JsonRead.ReadFile(path), path);

    public static TaskDefinition Parse(string json, string source)
    {
        var file = JsonInput.Deserialize(source, json, CoreJsonContext.Default.TaskFile);
        var id = file.Id;
        if (id.Length == 0 || id.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')))
        {
            throw new InputException(source, "id", $"task id '{id}' must be lower-case letters, digits and '-'");
        }
        var family = file.Family;
        if (family == TaskDefinition.OddOneOutFamily)
        {
            return ToOddOneOut(file, source);
        }
        if (family is not (TaskDefinition.ExploreExploitFamily or TaskDefinition.PassiveExploitFamily))
        {
            throw new InputException(source, "family", $"unknown family '{family}' (expected explore-exploit, passive-exploit or odd-one-out)");
        }
        if (file.OddOneOut is not null)
        {
            throw new InputException(source, "odd_one_out", "only an odd-one-out task has odd_one_out rules");
        }
        var generator = file.Generator is { } g ? ToGenerator(g, source) : throw new InputException(source, "generator", "required field is missing");
        var heldout = file.HeldoutLink is { } linkText ? ToLink(linkText, source, "heldout_link") : (DirectedLink?)null;
        var subsets = file.Subsets is { } subsetRule ? ToSubsets(subsetRule, generator, source) : null;
        var evidence = file.Evidence is { } evidenceRule ? ToEvidence(evidenceRule, source) : null;
        if (family == TaskDefinition.PassiveExploitFamily && evidence is null)
        {
            throw new InputException(source, "$", "evidence: a passive-exploit task needs an evidence rule");
        }
        if (family == TaskDefinition.ExploreExploitFamily && evidence is not null)
        {
            throw new InputException(source, "evidence", "an explore-exploit task has no passive evidence");
        }
        var definition = new TaskDefinition
        {
            Id = id,
            Version = JsonInput.InRange(file.Version, 1, int.MaxValue, source, "version"),
            Family = family,
            Description = file.Description ?? "",
            Generator = generator,
            Episode = file.Episode is { } episode ? ToEpisodeOptions(episode, source, "episode") : new EpisodeOptions(),
            Evidence = evidence,
            HeldoutLink = heldout,
            Subsets = subsets,
            Train = ToSplit(file.Splits.Train, source, "splits.train"),
            Test = ToSplit(file.Splits.Test, source, "splits.test"),
            Validation = file.Splits.Validation is { } validation ? ToSplit(validation, source, "splits.validation") : null,
        };
        if (heldout is { } link)
        {
            var names = Enumerable.Range(0, generator.Variables).Select(SignedDagOptions.NameOf).ToHashSet();
            if (!names.Contains(link.From) || !names.Contains(link.To) || link.From == link.To)
            {
                throw new InputException(source, "heldout_link", $"link {link} does not join two generated variables");
            }
        }
        return definition;
    }

    /// <summary>An odd-one-out task: its rules and splits (no world generator, evidence, link or subsets).</summary>
    private static TaskDefinition ToOddOneOut(TaskFile file, string source)
    {
        foreach (var (dagOnly, present) in new[]
        {
            ("generator", file.Generator is not null), ("episode", file.Episode is not null), ("evidence", file.Evidence is not null),
            ("heldout_link", file.HeldoutLink is not null), ("subsets", file.Subsets is not null),
        })
        {
            if (present)
            {
                throw new InputException(source, dagOnly, $"an odd-one-out task has no {dagOnly} (that is a causal-DAG field)");
            }
        }
        var rules = file.OddOneOut ?? throw new InputException(source, "odd_one_out", "required field is missing");
        OddOneOut.Dimension? heldout = null;
        if (rules.HeldoutDimension is { } dimension)
        {
            heldout = OddOneOut.Dimensions.TryParse(dimension, out var d)
                ? d
                : throw new InputException(source, "odd_one_out.heldout_dimension", $"unknown dimension '{dimension}' (expected colour, texture or shape)");
        }
        return new TaskDefinition
        {
            Id = file.Id,
            Version = JsonInput.InRange(file.Version, 1, int.MaxValue, source, "version"),
            Family = TaskDefinition.OddOneOutFamily,
            Description = file.Description ?? "",
            OddOneOut = new OddOneOut.OddOneOutRule(
                rules.Experiments is { } experiments ? JsonInput.InRange(experiments, 1, 10, source, "odd_one_out.experiments") : 3,
                rules.ConfoundedTrain ?? false,
                heldout),
            Train = ToSplit(file.Splits.Train, source, "splits.train"),
            Test = ToSplit(file.Splits.Test, source, "splits.test"),
            Validation = file.Splits.Validation is { } validation ? ToSplit(validation, source, "splits.validation") : null,
        };
    }

    private static SignedDagOptions ToGenerator(TaskFile.GeneratorFile file, string source)
    {
        var family = file.Family ?? "signed-dag";
        if (family != "signed-dag")
        {
            throw new InputException(source, "generator.family", $"unknown generator family '{family}' (expected signed-dag)");
        }
        var options = new SignedDagOptions
        {
            Variables = file.Variables is { } n
                ? JsonInput.InRange(n, SignedDagOptions.MinVariables, SignedDagOptions.MaxVariables, source, "generator.variables")
                : 5,
            EdgeProbability = file.EdgeProbability ?? 2.0 / 3.0,
            NoiseSd = file.NoiseSd ?? 0.1,
            HiddenConfounder = file.HiddenConfounder ?? false,
        };
        return options.Validate() is { } problem ? throw new InputException(source, "generator", problem) : options;
    }

    /// <summary>A directed link as files write it (<c>"D->B"</c>).</summary>
    internal static DirectedLink ToLink(string text, string source, string path)
        => DirectedLink.TryParse(text, out var link) ? link : throw new InputException(source, path, $"expected a link like \"D->B\", got \"{text}\"");

    private static SubsetRule ToSubsets(TaskFile.SubsetsFile file, SignedDagOptions generator, string source)
    {
        var size = JsonInput.InRange(file.Size, 1, generator.Variables, source, "subsets.size");
        var names = Enumerable.Range(0, generator.Variables).Select(SignedDagOptions.NameOf).ToHashSet();
        var test = new List<ImmutableArray<string>>();
        foreach (var (subset, i) in JsonInput.NoNullItems(file.Test, source, "subsets.test").Select((s, i) => (s, i)))
        {
            var members = JsonInput.NoNullItems(subset, source, $"subsets.test[{i}]").ToImmutableArray();
            if (members.Length != size || members.Distinct().Count() != size || !members.All(names.Contains))
            {
                throw new InputException(source, $"subsets.test[{i}]", $"expected {size} different variables of {string.Join(",", names.Order())}");
            }
            test.Add([.. members.Order(StringComparer.Ordinal)]);
        }
        if (test.Count == 0)
        {
            throw new InputException(source, "subsets.test", "list at least one test subset");
        }
        return new SubsetRule(size, [.. test]);
    }

    private static EvidenceRule ToEvidence(TaskFile.EvidenceRuleFile file, string source)
    {
        if (!PassiveEvidence.Conditions.Contains(file.Condition))
        {
            throw new InputException(source, "evidence.condition",
                $"unknown condition '{file.Condition}' (expected {string.Join(", ", PassiveEvidence.Conditions)})");
        }
        return new EvidenceRule(file.Condition, file.Samples is { } samples ? JsonInput.InRange(samples, 1, 1000, source, "evidence.samples") : null);
    }

    private static EpisodeOptions ToEpisodeOptions(TaskFile.EpisodeOptionsFile file, string source, string path) => new()
    {
        ExploreSteps = file.ExploreSteps is { } steps ? JsonInput.InRange(steps, 0, 100, source, $"{path}.explore_steps") : null,
        GoalFirst = file.GoalFirst ?? false,
        AskStructure = file.AskStructure ?? false,
        AllowedValues = file.AllowedValues is { } values ? ToAllowedValues(values, source, $"{path}.allowed_values") : EpisodeOptions.DefaultAllowedValues,
    };

    /// <summary>The allowed intervention values of a file: at least one, all different, none 0.</summary>
    internal static ImmutableArray<double> ToAllowedValues(IReadOnlyList<double> list, string source, string path)
    {
        var values = list.ToImmutableArray();
        if (values.Length == 0)
        {
            throw new InputException(source, path, "list at least one allowed value");
        }
        if (values.Distinct().Count() != values.Length)
        {
            throw new InputException(source, path, "allowed values must be different");
        }
        if (values.Contains(0))
        {
            throw new InputException(source, path, "0 is not an informative intervention value");
        }
        return values;
    }

    private static SplitRule ToSplit(TaskFile.SplitFile file, string source, string path)
        => new(file.Seed, JsonInput.InRange(file.Episodes, 1, 1_000_000, source, $"{path}.episodes"));
}

/// <summary><c>task.json</c> as read (hand-written files; the product never writes one).</summary>
internal sealed record TaskFile
{
    public required string Id { get; init; }
    public required int Version { get; init; }
    public required string Family { get; init; }
    public string? Description { get; init; }
    public GeneratorFile? Generator { get; init; }
    public EpisodeOptionsFile? Episode { get; init; }
    public EvidenceRuleFile? Evidence { get; init; }
    public string? HeldoutLink { get; init; }
    public SubsetsFile? Subsets { get; init; }
    public OddOneOutFile? OddOneOut { get; init; }
    public required SplitsFile Splits { get; init; }

    internal sealed record GeneratorFile(
        string? Family = null, int? Variables = null, double? EdgeProbability = null, double? NoiseSd = null, bool? HiddenConfounder = null);

    internal sealed record EpisodeOptionsFile(
        int? ExploreSteps = null, bool? GoalFirst = null, bool? AskStructure = null, IReadOnlyList<double>? AllowedValues = null);

    internal sealed record EvidenceRuleFile(string Condition, int? Samples = null);

    internal sealed record SubsetsFile(int Size, IReadOnlyList<IReadOnlyList<string?>?> Test);

    internal sealed record OddOneOutFile(int? Experiments = null, bool? ConfoundedTrain = null, string? HeldoutDimension = null);

    internal sealed record SplitsFile(SplitFile Train, SplitFile Test, SplitFile? Validation = null);

    internal sealed record SplitFile(ulong Seed, int Episodes);
}
