using System.Collections.Immutable;
using CausalEval.Core.Inference;

namespace CausalEval.Core.Tests.Inference;

public class BranchAndBoundTests
{
    [Theory]
    [InlineData(51UL, 0, 1)]
    [InlineData(52UL, 2, 0)]
    [InlineData(53UL, 0, 3)]
    public void Run_KeepsExactlyTheDagsWithinTheMarginOfALinearScan(ulong seed, int observational, int interventions)
    {
        // The trie pass against scoring every one of the 3,068,281 DAGs directly.
        var family = DagFamily.For(5);
        var model = new ObserverModel(["A", "B", "C", "D", "E"], false, 2.0 / 3.0, 0.1);
        var samples = IdealObserverTests.Draw(5, hidden: false, 0.1, seed, observational, interventions);
        var table = IdealObserver.LocalTerms(family, [.. samples.Select(s => Observation.From(model, s))], 0.1);
        var logPrior = family.LogPriorTable(2.0 / 3.0);
        var weights = new double[family.Count];
        for (var d = 0; d < family.Count; d++)
        {
            var w = logPrior[family.PriorIndices[d]];
            for (var j = 0; j < 5; j++)
            {
                w += table[j * family.CodesPerNode + family.Codes[d * 5 + j]];
            }
            weights[d] = w;
        }
        var best = weights.Max();
        var expected = Enumerable.Range(0, family.Count).Where(d => weights[d] >= best - IdealObserver.KeepMargin).ToArray();

        var result = BranchAndBound.Run(family, table, logPrior, IdealObserver.KeepMargin, exact: null, scratchLength: 0, threads: 1);

        Assert.Equal(best, result.Best, 9);
        Assert.Equal(expected, result.Dags);
        Assert.Equal(family.Count - expected.Length, result.Left);
        Assert.All(result.Dags.Zip(result.LogWeights), p => Assert.Equal(weights[p.First], p.Second, 9));
    }

    [Fact]
    public void Family_IsNumberedInTrieOrderAndItsOutcomeIdsSeparateDistinctRows()
    {
        var family = DagFamily.For(4);
        var n = family.Variables;
        for (var d = 1; d < family.Count; d++)
        {
            var previous = family.Codes.AsSpan((d - 1) * n, n);
            Assert.True(previous.SequenceCompareTo(family.Codes.AsSpan(d * n, n)) < 0);
        }
        for (var x = 0; x < n; x++)
        {
            var rows = new Dictionary<int, string>();
            for (var d = 0; d < family.Count; d++)
            {
                var row = string.Join(",", Enumerable.Range(0, n).Where(y => y != x).Select(y => family.Effects[d * n * n + x * n + y]));
                var id = family.OutcomeIds[d * n + x];
                Assert.Equal(rows.TryAdd(id, row) ? row : rows[id], row);
            }
            Assert.Equal(rows.Count, rows.Values.Distinct().Count());
            Assert.Equal(family.OutcomeCounts[x], rows.Count);
        }
    }
}
