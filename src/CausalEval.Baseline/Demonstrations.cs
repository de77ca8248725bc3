using System.Collections.Immutable;
using CausalEval.Core;
using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.Randomness;
using CausalEval.Core.Tasks;

namespace CausalEval.Baseline;

/// <summary>What the passive trajectories show.</summary>
internal enum DataCondition
{
    /// <summary>The expert's own episodes: its experiments, what they showed, its exploit choice (and structure answer).</summary>
    Interventional,

    /// <summary>
    /// The control: the same worlds and the expert's exploit choice, but the trajectory before it shows only joint
    /// samples observed without any intervention (as many as the expert had experiments). No explore labels.
    /// </summary>
    Observational,
}

/// <summary>What a token's label is.</summary>
internal enum LabelKind : byte
{
    None = 0,
    Explore = 1,
    Exploit = 2,
    Structure = 3,
}

/// <summary>
/// Passive demonstrations as dense arrays: <c>Features</c> [episodes, tokens, features]; per token the action class
/// (−100: none) and what kind of decision it labels; per token the expert's edge answer and which of its entries count.
/// Sequences shorter than <see cref="Tokens"/> are padded at the end (a causal model never reads the padding).
/// </summary>
internal sealed class DemonstrationSet
{
    public const long NoLabel = -100;

    public required int Episodes { get; init; }
    public required int Tokens { get; init; }
    public required EncoderShape Shape { get; init; }
    public required float[] Features { get; init; }
    public required long[] Actions { get; init; }
    public required byte[] Kinds { get; init; }
    public required float[] EdgeTargets { get; init; }
    public required float[] EdgeMask { get; init; }
    public required IReadOnlyList<DemonstrationSource> Sources { get; init; }
}

/// <summary>
/// Where demonstrations came from (for the model card): the task's train split, how many episodes were used, and what
/// was skipped to get them — every held-out link and subset of the evaluated tasks, and evaluation episodes.
/// </summary>
internal sealed record DemonstrationSource(string Task, int Version, string Split, int Episodes, ImmutableArray<string> TrainSubsets)
{
    /// <summary>Links no world of this source contains (every evaluated task's held-out link).</summary>
    public ImmutableArray<string> ExcludedLinks { get; init; } = [];

    /// <summary>Cued subsets no episode of this source uses (every evaluated task's held-out subsets).</summary>
    public ImmutableArray<string> ExcludedSubsets { get; init; } = [];

    /// <summary>Train-split episodes skipped, per reason (e.g. "held-out link D->B": 1,530).</summary>
    public IReadOnlyDictionary<string, int> Skipped { get; init; } = new Dictionary<string, int>();

    /// <summary>Train-split indices drawn (used + skipped).</summary>
    public int Drawn { get; init; }
}

/// <summary>One training episode as <c>causaleval baseline data</c> lists it.</summary>
internal sealed record DemonstrationEpisode(TaskDefinition Task, Episode Episode);

/// <summary>Builds demonstrations from the builtin/expert agent's episodes on tasks' train splits (never an evaluation split).</summary>
internal static class Demonstrations
{
    public const string Split = TaskDefinition.TrainSplit;

    /// <summary>Enough for any sane rule set; reaching it means the rules leave (almost) nothing of the train split.</summary>
    private const int MaxDrawsPerEpisode = 50;

    private sealed record Sequence(List<PastStep> Past, Phase Phase, EpisodeBrief Brief, string Target, long[] Actions, LabelKind[] Kinds,
        bool[,]? Edges);

    /// <summary>
    /// The exact episodes a recipe trains on: per task, the first <paramref name="episodesPerTask"/> train-split episodes
    /// that break none of <paramref name="rules"/>, in index order, and per task what was skipped.
    /// </summary>
    public static (List<DemonstrationEpisode> Episodes, List<DemonstrationSource> Sources) Select(IReadOnlyList<TaskDefinition> tasks, int episodesPerTask,
        HeldOutRules rules)
    {
        var episodes = new List<DemonstrationEpisode>(tasks.Count * episodesPerTask);
        var sources = new List<DemonstrationSource>();
        foreach (var task in tasks)
        {
            var subsets = new SortedSet<string>(StringComparer.Ordinal);
            var skipped = new SortedDictionary<string, int>(StringComparer.Ordinal);
            var used = 0;
            var index = 0;
            for (; used < episodesPerTask; index++)
            {
                if (index >= episodesPerTask * MaxDrawsPerEpisode)
                {
                    throw new InputException("--task", task.Id, $"only {used} of {index} train episodes respect the held-out rules; cannot find {episodesPerTask}");
                }
                var episode = DatasetGenerator.GenerateEpisode(task, Split, index);
                if (rules.Violation(episode) is { } reason)
                {
                    skipped[reason] = skipped.GetValueOrDefault(reason) + 1;
                    continue;
                }
                if (!episode.Options.Subset.IsDefault)
                {
                    subsets.Add(string.Join(",", episode.Options.Subset));
                }
                episodes.Add(new DemonstrationEpisode(task, episode));
                used++;
            }
            sources.Add(new DemonstrationSource(task.Id, task.Version, Split, episodesPerTask, [.. subsets])
            {
                ExcludedLinks = [.. rules.Links.Select(l => l.ToString())],
                ExcludedSubsets = rules.Subsets,
                Skipped = new Dictionary<string, int>(skipped),
                Drawn = index,
            });
        }
        return (episodes, sources);
    }

    public static DemonstrationSet Build(IReadOnlyList<TaskDefinition> tasks, int episodesPerTask, DataCondition condition, ulong seed,
        EncoderShape shape, HeldOutRules rules, Action<string>? log = null)
    {
        var (selected, sources) = Select(tasks, episodesPerTask, rules);
        var sequences = new List<Sequence>(selected.Count);
        var expert = BuiltinAgents.All["expert"].Create;
        foreach (var (task, episode) in selected)
        {
            var environmentSeed = StableId.Seed("baseline-demonstration", task.Id, task.Version.ToString(System.Globalization.CultureInfo.InvariantCulture),
                episode.Id, seed.ToString(System.Globalization.CultureInfo.InvariantCulture)) & ((1UL << 53) - 1);
            var agent = expert(new TrialContext($"demonstration-{episode.Id}", episode, 1, environmentSeed, null));
            var pending = EpisodeEngine.RunAsync(episode, agent, environmentSeed);
            var transcript = pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
            sequences.Add(episode.Options.Evidence is not null ? Passive(shape, episode, transcript)
                : condition == DataCondition.Interventional ? FromTranscript(shape, episode, transcript)
                : Observational(shape, episode, transcript, environmentSeed));
        }
        foreach (var source in sources)
        {
            log?.Invoke($"demonstrations: {source.Episodes} expert episodes from {source.Task} (v{source.Version}, {Split} split; drew {source.Drawn}, skipped "
                + (source.Skipped.Count == 0 ? "none" : string.Join(", ", source.Skipped.Select(p => $"{p.Value} for {p.Key}"))) + ")");
        }
        return Pack(shape, sequences, sources);
    }

    private static Sequence FromTranscript(EncoderShape shape, Episode episode, EpisodeTranscript transcript)
    {
        var steps = transcript.Steps;
        var past = steps.Take(steps.Length - 1).Select(s => new PastStep(s.Phase, s.Action, s.Observation)).ToList();
        var actions = new long[steps.Length];
        var kinds = new LabelKind[steps.Length];
        bool[,]? edges = null;
        for (var j = 0; j < steps.Length; j++)
        {
            actions[j] = DemonstrationSet.NoLabel;
            var step = steps[j];
            if (step.Status != StepStatus.Valid)
            {
                throw new InvalidOperationException($"the expert's step {j} of {episode.Id} is {step.Status}: {step.Error}");
            }
            if (step.Phase == Phase.Structure)
            {
                kinds[j] = LabelKind.Structure;
                edges = new bool[shape.MaxVariables, shape.MaxVariables];
                foreach (var edge in step.Decision.Edges!)
                {
                    edges[episode.Brief.IndexOf(edge.From), episode.Brief.IndexOf(edge.To)] = true;
                }
                continue;
            }
            actions[j] = ClassOf(shape, episode.Brief, step.Action!.Value);
            kinds[j] = step.Phase == Phase.Explore ? LabelKind.Explore : LabelKind.Exploit;
        }
        return new Sequence(past, steps[^1].Phase, episode.Brief, episode.Target, actions, kinds, edges);
    }

    /// <summary>
    /// A passive-exploit episode: its evidence samples as past steps the learner did not choose (as the torch agent sees
    /// them), then the expert's exploit choice given that evidence as the one label.
    /// </summary>
    private static Sequence Passive(EncoderShape shape, Episode episode, EpisodeTranscript transcript)
    {
        var past = episode.Options.Evidence!.Samples.Select(s => new PastStep(Phase.Explore, s.Intervention, s.Values)).ToList();
        var actions = Enumerable.Repeat(DemonstrationSet.NoLabel, past.Count + 1).ToArray();
        var kinds = new LabelKind[past.Count + 1];
        var exploit = transcript.Exploit ?? throw new InvalidOperationException($"the expert made no exploit choice in {episode.Id}");
        if (exploit.Status != StepStatus.Valid)
        {
            throw new InvalidOperationException($"the expert's exploit step of {episode.Id} is {exploit.Status}: {exploit.Error}");
        }
        actions[past.Count] = ClassOf(shape, episode.Brief, exploit.Action!.Value);
        kinds[past.Count] = LabelKind.Exploit;
        return new Sequence(past, Phase.Exploit, episode.Brief, episode.Target, actions, kinds, null);
    }

    private static Sequence Observational(EncoderShape shape, Episode episode, EpisodeTranscript transcript, ulong environmentSeed)
    {
        var world = episode.World;
        var random = new SeededRandom(SplitMix64.Derive(environmentSeed, 1));
        var count = transcript.Steps.Count(s => s.Phase == Phase.Explore);
        var past = new List<PastStep>(count);
        Span<double> sample = stackalloc double[world.Count];
        for (var i = 0; i < count; i++)
        {
            world.Sample(random, -1, 0, sample);
            var shown = new double[world.Observable.Length];
            for (var k = 0; k < shown.Length; k++)
            {
                shown[k] = EpisodeEngine.RoundForDisplay(sample[world.IndexOf(world.Observable[k])]);
            }
            past.Add(new PastStep(Phase.Explore, null, [.. shown]));
        }
        var actions = Enumerable.Repeat(DemonstrationSet.NoLabel, count + 1).ToArray();
        var kinds = new LabelKind[count + 1];
        actions[count] = ClassOf(shape, episode.Brief, transcript.Exploit!.Action!.Value);
        kinds[count] = LabelKind.Exploit;
        return new Sequence(past, Phase.Exploit, episode.Brief, episode.Target, actions, kinds, null);
    }

    private static long ClassOf(EncoderShape shape, EpisodeBrief brief, Core.Worlds.Intervention action)
        => shape.ClassOf(brief.IndexOf(action.Variable), brief.AllowedValues.IndexOf(action.Value));

    private static DemonstrationSet Pack(EncoderShape shape, List<Sequence> sequences, List<DemonstrationSource> sources)
    {
        var tokens = sequences.Max(s => s.Past.Count + 1);
        var features = shape.Features;
        var edgesPerToken = shape.MaxVariables * shape.MaxVariables;
        var set = new DemonstrationSet
        {
            Episodes = sequences.Count,
            Tokens = tokens,
            Shape = shape,
            Features = new float[sequences.Count * tokens * features],
            Actions = Enumerable.Repeat(DemonstrationSet.NoLabel, sequences.Count * tokens).ToArray(),
            Kinds = new byte[sequences.Count * tokens],
            EdgeTargets = new float[sequences.Count * tokens * edgesPerToken],
            EdgeMask = new float[sequences.Count * tokens * edgesPerToken],
            Sources = sources,
        };
        for (var i = 0; i < sequences.Count; i++)
        {
            var s = sequences[i];
            if (StepEncoder.Unsupported(shape, s.Brief, s.Past.Count + 1) is { } problem)
            {
                throw new InputException("--task", s.Brief.EpisodeId, problem);
            }
            StepEncoder.Encode(shape, s.Brief, s.Target, s.Past, s.Phase, set.Features.AsSpan(i * tokens * features, tokens * features));
            for (var j = 0; j < s.Actions.Length; j++)
            {
                set.Actions[i * tokens + j] = s.Actions[j];
                set.Kinds[i * tokens + j] = (byte)s.Kinds[j];
                if (s.Kinds[j] != LabelKind.Structure || s.Edges is null)
                {
                    continue;
                }
                var offset = (i * tokens + j) * edgesPerToken;
                var n = s.Brief.Variables.Length;
                for (var from = 0; from < n; from++)
                {
                    for (var to = 0; to < n; to++)
                    {
                        if (from != to)
                        {
                            set.EdgeMask[offset + from * shape.MaxVariables + to] = 1;
                            set.EdgeTargets[offset + from * shape.MaxVariables + to] = s.Edges[from, to] ? 1 : 0;
                        }
                    }
                }
            }
        }
        return set;
    }
}
