using CausalEval.Reporting.Input;
using CausalEval.Reporting.Statistics;

namespace CausalEval.Reporting.Analysis;

/// <summary>Two entries on the episodes both have scores for.</summary>
internal static class Pairing
{
    /// <summary>Per common episode, in (task, episode) order: each entry's mean normalized score over its epochs.</summary>
    public static (double[] First, double[] Second) EpisodeMeans(ReportData data, int first, int second, int? task)
        => EpisodeMeans(data, first, second, task, cell => cell.MeanNormalized);

    /// <summary>Per common episode, in (task, episode) order: each entry's mean of <paramref name="measure"/> over its epochs.</summary>
    public static (double[] First, double[] Second) EpisodeMeans(ReportData data, int first, int second, int? task, Func<EpisodeCell, double> measure)
    {
        var a = data.ScoredCells(first, task);
        var b = data.ScoredCells(second, task).ToDictionary(p => p.Episode, p => p.Cell);
        var firstMeans = new List<double>();
        var secondMeans = new List<double>();
        foreach (var (episode, cell) in a)
        {
            if (b.TryGetValue(episode, out var other))
            {
                firstMeans.Add(measure(cell));
                secondMeans.Add(measure(other));
            }
        }
        return ([.. firstMeans], [.. secondMeans]);
    }

    /// <summary>
    /// The mean paired difference (first − second) over common episodes, each episode weighing the same, with a
    /// percentile bootstrap interval that resamples episodes (so epochs of one episode move together).
    /// </summary>
    public static ConfidenceInterval Difference(double[] first, double[] second)
        => Bootstrap.FromClusterTotals(Differences(first, second), clusterSizes: null);

    public static double[] Differences(double[] first, double[] second)
    {
        var differences = new double[first.Length];
        for (var i = 0; i < differences.Length; i++)
        {
            differences[i] = first[i] - second[i];
        }
        return differences;
    }

    /// <summary>
    /// Optimal-action outcomes paired trial by trial on each common episode: the k-th trials in (epoch, run) order,
    /// which met the same environment noise. Returns the pairs and the two discordant counts for McNemar's test.
    /// </summary>
    /// <remarks><c>Repeated</c>: some common episode has more than one pair (epochs or runs), so pairs are not independent.</remarks>
    public static (long Pairs, long FirstOptimal, long SecondOptimal, long OnlyFirst, long OnlySecond, bool Repeated) Outcomes(ReportData data, int first, int second)
    {
        var b = data.ScoredCells(second, null).ToDictionary(p => p.Episode, p => p.Cell);
        long pairs = 0, firstOptimal = 0, secondOptimal = 0, onlyFirst = 0, onlySecond = 0;
        var repeated = false;
        foreach (var (episode, cell) in data.ScoredCells(first, null))
        {
            if (!b.TryGetValue(episode, out var other))
            {
                continue;
            }
            var x = cell.SortedOutcomes();
            var y = other.SortedOutcomes();
            repeated |= Math.Min(x.Length, y.Length) > 1;
            for (var k = 0; k < Math.Min(x.Length, y.Length); k++)
            {
                bool p = EpisodeCell.Optimal(x[k]), q = EpisodeCell.Optimal(y[k]);
                pairs++;
                firstOptimal += p ? 1 : 0;
                secondOptimal += q ? 1 : 0;
                onlyFirst += p && !q ? 1 : 0;
                onlySecond += q && !p ? 1 : 0;
            }
        }
        return (pairs, firstOptimal, secondOptimal, onlyFirst, onlySecond, repeated);
    }
}
