using System.Collections.Immutable;
using System.Text.Json;
using CausalEval.Core.Episodes;
using CausalEval.Core.Json;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Tasks;

/// <summary>One dataset line: an episode with its world, goal and options, as one JSON object (<see cref="EpisodeLine"/>).</summary>
public static class EpisodeJson
{
    public static string ToLine(Episode episode, string split) => JsonInput.ToLine(ToFile(episode, split), CoreJsonContext.Default.EpisodeLine);

    public static void Write(Utf8JsonWriter writer, Episode episode, string split)
        => JsonSerializer.Serialize(writer, ToFile(episode, split), CoreJsonContext.Default.EpisodeLine);

    private static EpisodeLine ToFile(Episode episode, string split)
    {
        var options = episode.Options;
        return new EpisodeLine
        {
            Id = episode.Id,
            Split = split,
            Seed = episode.Seed,
            World = WorldJson.ToFile(episode.World),
            Target = episode.Target,
            Subset = options.Subset.IsDefault ? null : options.Subset,
            HeldoutLink = options.HeldoutLink?.ToString(),
            ExploreSteps = options.ExploreSteps,
            GoalFirst = options.GoalFirst,
            AskStructure = options.AskStructure,
            AllowedValues = options.AllowedValues,
            Evidence = options.Evidence is { } evidence
                ? new EpisodeLine.EvidenceFile(evidence.Condition, [.. evidence.Samples.Select(s => new EpisodeLine.SampleFile
                {
                    Do = s.Intervention is { } act ? new EpisodeLine.InterventionFile(act.Variable, act.Value) : null,
                    Values = Values(episode.World.Observable, s.Values),
                })])
                : null,
        };
    }

    private static Dictionary<string, double> Values(ImmutableArray<string> names, ImmutableArray<double> values)
    {
        var result = new Dictionary<string, double>(names.Length, StringComparer.Ordinal);
        for (var i = 0; i < names.Length; i++)
        {
            result.Add(names[i], values[i]);
        }
        return result;
    }

    /// <summary>Observed values as an object keyed by variable name, in observation order (the trial writer's hot path).</summary>
    public static void WriteValues(Utf8JsonWriter writer, string property, ImmutableArray<string> names, ImmutableArray<double> values)
    {
        writer.WriteStartObject(property);
        for (var i = 0; i < names.Length; i++)
        {
            writer.WriteNumber(names[i], values[i]);
        }
        writer.WriteEndObject();
    }

    /// <summary>Parses one line; <paramref name="source"/> names file and line for error messages.</summary>
    public static (Episode Episode, string Split) Parse(string line, string source)
    {
        var file = JsonInput.Deserialize(source, line, CoreJsonContext.Default.EpisodeLine);
        var world = WorldJson.ToWorld(file.World, source, "world");
        var target = file.Target;
        if (world.IndexOf(target) < 0)
        {
            throw new InputException(source, "target", $"target '{target}' is not a variable of the world");
        }
        if (!world.IsObservable(target))
        {
            throw new InputException(source, "target", $"target '{target}' is hidden");
        }
        var subset = default(ImmutableArray<string>);
        if (file.Subset is { } members)
        {
            subset = [.. JsonInput.NoNullItems(members, source, "subset")];
            foreach (var (member, i) in subset.Select((m, i) => (m, i)))
            {
                if (!world.IsObservable(member))
                {
                    throw new InputException(source, $"subset[{i}]", $"'{member}' is not an observable variable");
                }
            }
            if (subset.Distinct().Count() != subset.Length || subset.Length == 0)
            {
                throw new InputException(source, "subset", "subset must list different variables, at least one");
            }
        }
        DirectedLink? heldout = null;
        if (file.HeldoutLink is { } text)
        {
            var link = TaskJson.ToLink(text, source, "heldout_link");
            if (world.IndexOf(link.From) < 0 || world.IndexOf(link.To) < 0)
            {
                throw new InputException(source, "heldout_link", $"link {link} names a variable the world does not have");
            }
            heldout = link;
        }
        var options = new EpisodeOptions
        {
            Subset = subset,
            HeldoutLink = heldout,
            ExploreSteps = file.ExploreSteps is { } steps ? JsonInput.InRange(steps, 0, 100, source, "explore_steps") : null,
            GoalFirst = file.GoalFirst ?? false,
            AskStructure = file.AskStructure ?? false,
            AllowedValues = file.AllowedValues is { } v ? TaskJson.ToAllowedValues(v, source, "allowed_values") : EpisodeOptions.DefaultAllowedValues,
            Evidence = file.Evidence is { } evidence ? ToEvidence(evidence, world, source) : null,
        };
        var episode = new Episode(file.Id, world, target, file.Seed, options);
        if (episode.Solution.Actions.Length == 0)
        {
            throw new InputException(source, "target", "the goal leaves no variable to set (every allowed variable is the target)");
        }
        if (!(episode.Solution.OptimalValue > 0))
        {
            throw new InputException(source, "target",
                $"no allowed action raises '{target}' (best expected value {episode.Solution.OptimalValue}), so the score has no scale");
        }
        return (episode, file.Split ?? "test");
    }

    private static PassiveEvidence ToEvidence(EpisodeLine.EvidenceFile file, World world, string source)
    {
        if (!PassiveEvidence.Conditions.Contains(file.Condition))
        {
            throw new InputException(source, "evidence.condition", $"unknown condition '{file.Condition}'");
        }
        var samples = ImmutableArray.CreateBuilder<EvidenceSample>(file.Samples.Count);
        foreach (var (sample, i) in JsonInput.NoNullItems(file.Samples, source, "evidence.samples").Select((s, i) => (s, i)))
        {
            var path = $"evidence.samples[{i}]";
            Intervention? intervention = null;
            if (sample.Do is { } act)
            {
                if (!world.IsObservable(act.Variable))
                {
                    throw new InputException(source, $"{path}.do.variable", $"'{act.Variable}' is not an observable variable");
                }
                intervention = new Intervention(act.Variable, act.Value);
            }
            var values = new double[world.Observable.Length];
            for (var j = 0; j < values.Length; j++)
            {
                values[j] = sample.Values.TryGetValue(world.Observable[j], out var value)
                    ? value
                    : throw new InputException(source, $"{path}.values.{world.Observable[j]}", "required field is missing");
            }
            samples.Add(new EvidenceSample(intervention, [.. values]));
        }
        return new PassiveEvidence(file.Condition, samples.MoveToImmutable());
    }
}

/// <summary>A causal-DAG dataset line as written (field order is the file's; <c>split</c> and the options optional on read).</summary>
internal sealed record EpisodeLine
{
    public required string Id { get; init; }
    public string? Split { get; init; }
    public required ulong Seed { get; init; }
    public required WorldFile World { get; init; }
    public required string Target { get; init; }
    public IReadOnlyList<string?>? Subset { get; init; }
    public string? HeldoutLink { get; init; }
    public int? ExploreSteps { get; init; }
    public bool? GoalFirst { get; init; }
    public bool? AskStructure { get; init; }
    public IReadOnlyList<double>? AllowedValues { get; init; }
    public EvidenceFile? Evidence { get; init; }

    internal sealed record EvidenceFile(string Condition, IReadOnlyList<SampleFile?> Samples);

    /// <summary>One passive sample: the intervention (null: observed) and the observed values by variable name.</summary>
    internal sealed record SampleFile
    {
        public InterventionFile? Do { get; init; }
        public required Dictionary<string, double> Values { get; init; }
    }

    internal sealed record InterventionFile(string Variable, double Value);
}
