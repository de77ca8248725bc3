using System.Collections.Immutable;
using CausalEval.Core.Episodes;
using CausalEval.Core.Json;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Tasks;

/// <summary>Reads <c>task.json</c> with a clear message for every problem.</summary>
public static class TaskJson
{
    public static TaskDefinition Load(string path) => Parse(JsonRead.ReadFile(path), path);

    public static TaskDefinition Parse(string json, string source)
    {
        var root = JsonRead.Parse(source, json).Object();
        root.OnlyFields("id", "version", "family", "description", "generator", "episode", "evidence", "heldout_link", "subsets", "odd_one_out", "splits");
        var id = root.Required("id").String();
        if (id.Length == 0 || id.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')))
        {
            throw root.Required("id").Error($"task id '{id}' must be lower-case letters, digits and '-'");
        }
        var family = root.Required("family").String();
        if (family == TaskDefinition.OddOneOutFamily)
        {
            return ReadOddOneOut(root, id);
        }
        if (family is not (TaskDefinition.ExploreExploitFamily or TaskDefinition.PassiveExploitFamily))
        {
            throw root.Required("family").Error($"unknown family '{family}' (expected explore-exploit, passive-exploit or odd-one-out)");
        }
        if (root.Optional("odd_one_out") is { } stray)
        {
            throw stray.Error("only an odd-one-out task has odd_one_out rules");
        }
        var generator = ReadGenerator(root.Required("generator"));
        var heldout = root.Optional("heldout_link") is { } linkField ? ReadLink(linkField) : (DirectedLink?)null;
        var subsets = root.Optional("subsets") is { } subsetField ? ReadSubsets(subsetField, generator) : null;
        var evidence = root.Optional("evidence") is { } evidenceField ? ReadEvidence(evidenceField) : null;
        if (family == TaskDefinition.PassiveExploitFamily && evidence is null)
        {
            throw root.Error("evidence: a passive-exploit task needs an evidence rule");
        }
        if (family == TaskDefinition.ExploreExploitFamily && evidence is not null)
        {
            throw root.Required("evidence").Error("an explore-exploit task has no passive evidence");
        }
        var splits = root.Required("splits");
        splits.OnlyFields("train", "validation", "test");
        var definition = new TaskDefinition
        {
            Id = id,
            Version = root.Required("version").Int(1),
            Family = family,
            Description = root.Optional("description")?.String() ?? "",
            Generator = generator,
            Episode = root.Optional("episode") is { } episode ? ReadEpisodeOptions(episode) : new EpisodeOptions(),
            Evidence = evidence,
            HeldoutLink = heldout,
            Subsets = subsets,
            Train = ReadSplit(splits.Required("train")),
            Test = ReadSplit(splits.Required("test")),
            Validation = splits.Optional("validation") is { } validation ? ReadSplit(validation) : null,
        };
        if (heldout is { } link)
        {
            var names = Enumerable.Range(0, generator.Variables).Select(SignedDagOptions.NameOf).ToHashSet();
            if (!names.Contains(link.From) || !names.Contains(link.To) || link.From == link.To)
            {
                throw root.Required("heldout_link").Error($"link {link} does not join two generated variables");
            }
        }
        return definition;
    }

    /// <summary>An odd-one-out task: its rules and splits (no world generator, evidence, link or subsets).</summary>
    private static TaskDefinition ReadOddOneOut(JsonRead root, string id)
    {
        foreach (var dagOnly in new[] { "generator", "episode", "evidence", "heldout_link", "subsets" })
        {
            if (root.Optional(dagOnly) is { } field)
            {
                throw field.Error($"an odd-one-out task has no {dagOnly} (that is a causal-DAG field)");
            }
        }
        var rules = root.Required("odd_one_out");
        rules.OnlyFields("experiments", "confounded_train", "heldout_dimension");
        OddOneOut.Dimension? heldout = null;
        if (rules.Optional("heldout_dimension") is { } dimension)
        {
            heldout = OddOneOut.Dimensions.TryParse(dimension.String(), out var d)
                ? d
                : throw dimension.Error($"unknown dimension '{dimension.String()}' (expected colour, texture or shape)");
        }
        var splits = root.Required("splits");
        splits.OnlyFields("train", "validation", "test");
        return new TaskDefinition
        {
            Id = id,
            Version = root.Required("version").Int(1),
            Family = TaskDefinition.OddOneOutFamily,
            Description = root.Optional("description")?.String() ?? "",
            OddOneOut = new OddOneOut.OddOneOutRule(
                rules.Optional("experiments")?.Int(1, 10) ?? 3,
                rules.Optional("confounded_train")?.Bool() ?? false,
                heldout),
            Train = ReadSplit(splits.Required("train")),
            Test = ReadSplit(splits.Required("test")),
            Validation = splits.Optional("validation") is { } validation ? ReadSplit(validation) : null,
        };
    }

    private static SignedDagOptions ReadGenerator(JsonRead field)
    {
        field.OnlyFields("family", "variables", "edge_probability", "noise_sd", "hidden_confounder");
        var family = field.Optional("family")?.String() ?? "signed-dag";
        if (family != "signed-dag")
        {
            throw field.Required("family").Error($"unknown generator family '{family}' (expected signed-dag)");
        }
        var options = new SignedDagOptions
        {
            Variables = field.Optional("variables")?.Int(SignedDagOptions.MinVariables, SignedDagOptions.MaxVariables) ?? 5,
            EdgeProbability = field.Optional("edge_probability")?.Number() ?? 2.0 / 3.0,
            NoiseSd = field.Optional("noise_sd")?.Number() ?? 0.1,
            HiddenConfounder = field.Optional("hidden_confounder")?.Bool() ?? false,
        };
        return options.Validate() is { } problem ? throw field.Error(problem) : options;
    }

    internal static DirectedLink ReadLink(JsonRead field)
        => DirectedLink.TryParse(field.String(), out var link) ? link : throw field.Error($"expected a link like \"D->B\", got \"{field.String()}\"");

    private static SubsetRule ReadSubsets(JsonRead field, SignedDagOptions generator)
    {
        field.OnlyFields("size", "test");
        var size = field.Required("size").Int(1, generator.Variables);
        var names = Enumerable.Range(0, generator.Variables).Select(SignedDagOptions.NameOf).ToHashSet();
        var test = new List<ImmutableArray<string>>();
        foreach (var subset in field.Required("test").Array())
        {
            var members = subset.Array().Select(m => m.String()).ToImmutableArray();
            if (members.Length != size || members.Distinct().Count() != size || !members.All(names.Contains))
            {
                throw subset.Error($"expected {size} different variables of {string.Join(",", names.Order())}");
            }
            test.Add([.. members.Order(StringComparer.Ordinal)]);
        }
        if (test.Count == 0)
        {
            throw field.Required("test").Error("list at least one test subset");
        }
        return new SubsetRule(size, [.. test]);
    }

    private static EvidenceRule ReadEvidence(JsonRead field)
    {
        field.OnlyFields("condition", "samples");
        var condition = field.Required("condition").String();
        if (!PassiveEvidence.Conditions.Contains(condition))
        {
            throw field.Required("condition").Error($"unknown condition '{condition}' (expected {string.Join(", ", PassiveEvidence.Conditions)})");
        }
        return new EvidenceRule(condition, field.Optional("samples")?.Int(1, 1000));
    }

    internal static EpisodeOptions ReadEpisodeOptions(JsonRead field)
    {
        field.OnlyFields("explore_steps", "goal_first", "ask_structure", "allowed_values");
        var values = field.Optional("allowed_values") is { } v ? ReadAllowedValues(v) : EpisodeOptions.DefaultAllowedValues;
        return new EpisodeOptions
        {
            ExploreSteps = field.Optional("explore_steps")?.Int(0, 100),
            GoalFirst = field.Optional("goal_first")?.Bool() ?? false,
            AskStructure = field.Optional("ask_structure")?.Bool() ?? false,
            AllowedValues = values,
        };
    }

    internal static ImmutableArray<double> ReadAllowedValues(JsonRead field)
    {
        var values = field.Array().Select(x => x.Number()).ToImmutableArray();
        if (values.Length == 0)
        {
            throw field.Error("list at least one allowed value");
        }
        if (values.Distinct().Count() != values.Length)
        {
            throw field.Error("allowed values must be different");
        }
        if (values.Contains(0))
        {
            throw field.Error("0 is not an informative intervention value");
        }
        return values;
    }

    private static SplitRule ReadSplit(JsonRead field)
    {
        field.OnlyFields("seed", "episodes");
        return new SplitRule(field.Required("seed").UInt64(), field.Required("episodes").Int(1, 1_000_000));
    }
}
