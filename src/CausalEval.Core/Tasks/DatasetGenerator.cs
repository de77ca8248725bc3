using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using CausalEval.Core.Episodes;
using CausalEval.Core.Oracle;
using CausalEval.Core.Randomness;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Tasks;

/// <summary>
/// Generates a task's splits deterministically from (task, version, split seed): episode i of a split
/// depends only on the split seed and i, so any prefix of a split is stable. Splits share no episode (world, target,
/// subset): test excludes nothing, validation redraws any test episode, train redraws any test or validation episode.
/// </summary>
public static class DatasetGenerator
{
    /// <summary>Seeds are kept below 2^53 so that every JSON reader holds them exactly.</summary>
    private const ulong JsonSafeSeedMask = (1UL << 53) - 1;

    private const int MaxAttempts = 10_000;

    public static IEnumerable<Episode> Generate(TaskDefinition task, string split, int? count = null)
    {
        var rule = task.Split(split);
        var n = count ?? rule.Episodes;
        for (var i = 0; i < n; i++)
        {
            yield return GenerateEpisode(task, split, i);
        }
    }

    /// <summary>The seed of episode <paramref name="index"/> of a split, for every task family: derived from the split's seed and the index only.</summary>
    public static ulong EpisodeSeed(TaskDefinition task, string split, int index) => SplitMix64.Derive(task.Split(split).Seed, (ulong)index) & JsonSafeSeedMask;

    public static Episode GenerateEpisode(TaskDefinition task, string split, int index)
    {
        var seed = EpisodeSeed(task, split, index);
        var random = new SeededRandom(seed);
        var isTest = TaskDefinition.IsHeldOut(split);
        var excluded = Excluded(task, split);
        var generator = task.Generator with
        {
            RequiredLinks = task.HeldoutLink is { } required && isTest ? [required] : [],
            ForbiddenLinks = task.HeldoutLink is { } forbidden && !isTest ? [forbidden] : [],
        };
        var subsets = task.Subsets is { } rule ? SubsetsFor(rule, task.Generator.Variables, isTest) : [];
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var world = SignedDagGenerator.Generate(generator, random);
            var subset = subsets.Length > 0 ? subsets[random.NextInt(subsets.Length)] : default;
            var cued = subset.IsDefault ? world.Observable : subset;
            var targets = world.Observable
                .Where(t => HasPositiveOptimum(world, t, cued, task.Episode.AllowedValues))
                .Where(t => !(isTest && task.HeldoutLink is { } link) || HeldoutLinkMatters(world, t, cued, task.Episode.AllowedValues, link))
                .ToArray();
            if (targets.Length == 0)
            {
                continue;
            }
            var target = targets[random.NextInt(targets.Length)];
            if (excluded.Contains(Key(world, target, subset)))
            {
                continue;
            }
            var options = task.Episode with
            {
                Subset = subset,
                HeldoutLink = task.HeldoutLink,
                Evidence = task.Evidence is { } evidence ? DrawEvidence(world, evidence, task.Episode.AllowedValues, random) : null,
            };
            return new Episode($"{split}-{index:D4}", world, target, seed, options);
        }
        throw new InvalidOperationException($"task {task.Id}: no acceptable world after {MaxAttempts} attempts (episode {index})");
    }

    /// <summary>What identifies an episode across splits: the world (edges and weights, hidden variables), the target and the cued subset.</summary>
    public static string Key(World world, string target, ImmutableArray<string> subset)
    {
        var text = new StringBuilder();
        text.AppendJoin(',', world.Variables).Append('|').AppendJoin(',', world.Hidden).Append('|');
        foreach (var edge in world.Edges.OrderBy(e => e.From, StringComparer.Ordinal).ThenBy(e => e.To, StringComparer.Ordinal))
        {
            text.Append(CultureInfo.InvariantCulture, $"{edge.From}>{edge.To}:{edge.Weight:R};");
        }
        text.Append('|').Append(target).Append('|');
        if (!subset.IsDefault)
        {
            text.AppendJoin(',', subset);
        }
        return text.ToString();
    }

    public static string Key(Episode episode) => Key(episode.World, episode.Target, episode.Options.Subset);

    private static readonly ConditionalWeakTable<TaskDefinition, Dictionary<string, HashSet<string>>> ExcludedKeys = new();

    private static readonly ConditionalWeakTable<TaskDefinition, Func<string, IEnumerable<Episode>?>> CommittedSplits = new();

    /// <summary>
    /// Where the committed splits of <paramref name="task"/> can be read (<paramref name="read"/>: split → its episodes, or
    /// null), so that the keys a lower split must not draw come from the files instead of regenerating the splits above it
    /// (which, for a held-out-link task, means thousands of rejected worlds). A file is used only when it is the split this
    /// task generates — every episode's id and seed match and none is missing — else the split is generated.
    /// </summary>
    public static void UseCommittedSplits(TaskDefinition task, Func<string, IEnumerable<Episode>?> read) => CommittedSplits.AddOrUpdate(task, read);

    /// <summary>
    /// The keys a split must not draw: the committed splits it ranks below (validation below test, train below both),
    /// read or generated once per task object.
    /// </summary>
    private static HashSet<string> Excluded(TaskDefinition task, string split)
    {
        var above = split switch
        {
            TaskDefinition.ValidationSplit => [TaskDefinition.TestSplit],
            TaskDefinition.TrainSplit => task.Validation is null ? [TaskDefinition.TestSplit] : new[] { TaskDefinition.TestSplit, TaskDefinition.ValidationSplit },
            _ => Array.Empty<string>(),
        };
        if (above.Length == 0)
        {
            return [];
        }
        var cache = ExcludedKeys.GetValue(task, _ => []);
        lock (cache)
        {
            if (!cache.TryGetValue(split, out var keys))
            {
                keys = [.. above.SelectMany(s => Committed(task, s) ?? Generate(task, s)).Select(Key)];
                cache[split] = keys;
            }
            return keys;
        }
    }

    /// <summary>The committed episodes of a split when they are exactly what this task generates for it, else null.</summary>
    private static List<Episode>? Committed(TaskDefinition task, string split)
    {
        if (!CommittedSplits.TryGetValue(task, out var read))
        {
            return null;
        }
        try
        {
            if (read(split) is not { } episodes)
            {
                return null;
            }
            var rule = task.Split(split);
            var list = episodes.ToList();
            for (var i = 0; i < list.Count; i++)
            {
                if (list[i].Id != $"{split}-{i:D4}" || list[i].Seed != (SplitMix64.Derive(rule.Seed, (ulong)i) & JsonSafeSeedMask))
                {
                    return null;
                }
            }
            return list.Count == rule.Episodes ? list : null;
        }
        catch (InputException)
        {
            return null;
        }
    }

    /// <summary>
    /// The held-out link matters when no exploit action that is optimal in the world without it is optimal in the true world.
    /// </summary>
    public static bool HeldoutLinkMatters(World world, string target, IReadOnlyList<string> cued, IReadOnlyList<double> values, DirectedLink link)
    {
        if (!world.HasEdge(link.From, link.To))
        {
            return false;
        }
        var allowed = cued.Where(v => v != target).ToArray();
        var truth = ExploitOracle.Solve(world, target, allowed, values);
        var supported = ExploitOracle.Solve(world.WithoutEdge(link.From, link.To), target, allowed, values);
        return !supported.Optimal.Any(a => truth.IsOptimal(a.Action));
    }

    private static bool HasPositiveOptimum(World world, string target, IReadOnlyList<string> cued, IReadOnlyList<double> values)
    {
        var solution = ExploitOracle.Solve(world, target, [.. cued.Where(v => v != target)], values);
        return solution.Optimal.Length > 0 && solution.OptimalValue > 0;
    }

    /// <summary>Test: the listed subsets. Train: every other subset of the same size.</summary>
    internal static ImmutableArray<ImmutableArray<string>> SubsetsFor(SubsetRule rule, int variables, bool test)
    {
        if (test)
        {
            return rule.Test;
        }
        var names = Enumerable.Range(0, variables).Select(SignedDagOptions.NameOf).ToArray();
        var heldOut = rule.Test.Select(s => string.Join(",", s)).ToHashSet();
        return [.. Combinations(names, rule.Size).Where(c => !heldOut.Contains(string.Join(",", c)))];
    }

    private static IEnumerable<ImmutableArray<string>> Combinations(string[] names, int size)
    {
        for (var mask = 0; mask < 1 << names.Length; mask++)
        {
            if (int.PopCount(mask) == size)
            {
                yield return [.. names.Where((_, i) => (mask & 1 << i) != 0)];
            }
        }
    }

    private static PassiveEvidence DrawEvidence(World world, EvidenceRule rule, ImmutableArray<double> values, SeededRandom random)
    {
        var observable = world.Observable;
        var count = rule.Samples ?? observable.Length;
        var samples = ImmutableArray.CreateBuilder<EvidenceSample>(count);
        Span<double> buffer = stackalloc double[world.Count];
        for (var s = 0; s < count; s++)
        {
            Intervention? intervention = rule.Condition switch
            {
                // The expert's experiments: each variable in turn, cycling through the allowed values.
                PassiveEvidence.InterventionalExpert => new Intervention(observable[s % observable.Length], values[s / observable.Length % values.Length]),
                PassiveEvidence.InterventionalRandom => new Intervention(observable[random.NextInt(observable.Length)], values[random.NextInt(values.Length)]),
                _ => null,
            };
            world.Sample(random, intervention is { } i ? world.IndexOf(i.Variable) : -1, intervention?.Value ?? 0, buffer);
            var shown = new double[observable.Length];
            for (var k = 0; k < shown.Length; k++)
            {
                shown[k] = EpisodeEngine.RoundForDisplay(buffer[world.IndexOf(observable[k])]);
            }
            samples.Add(new EvidenceSample(intervention, [.. shown]));
        }
        return new PassiveEvidence(rule.Condition, samples.MoveToImmutable());
    }
}
