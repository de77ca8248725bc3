using CausalEval.Reporting.Analysis;
using CausalEval.Reporting.Statistics;
using CausalEval.Reporting.Tests.Support;

namespace CausalEval.Reporting.Tests.Analysis;

public class ComparisonAnalysisTests
{
    private static IEnumerable<TrialSpec> Optimal(string model, string pattern, int epoch = 1)
        => pattern.Select((c, e) => new TrialSpec { Task = "t", Episode = $"e{e:00}", Model = model, Epoch = epoch, Normalized = c == '1' ? 1 : 0, OptimalAction = c == '1' ? 1 : 0 });

    [Fact]
    public void McNemar_counts_discordant_pairs_and_gives_the_exact_p_value()
    {
        // a vs b over 10 episodes: only a optimal on 6, only b on 1 → p = 2·P(X ≤ 1 | n = 7, ½) = 2·8/128 = 0.125.
        var model = Loaded.Model([.. Optimal("a", "1111111100"), .. Optimal("b", "0100000110")]);

        var row = Assert.Single(model.Comparisons);

        Assert.Equal(("a", "b"), (row.A.Model, row.B.Model));
        Assert.Equal((10, 10L, 8L, 3L, 6L, 1L), (row.Episodes, row.Pairs, row.OptimalA, row.OptimalB, row.OnlyA, row.OnlyB));
        Assert.Equal(0.125, row.PValue, 12);
        Assert.Equal(0.125, row.PAdjusted, 12); // one test: Holm changes nothing
        Assert.Equal(0.5, row.Difference.Estimate, 12);
        Assert.Equal((0.8, 0.3), (row.MeanA, row.MeanB));
    }

    [Fact]
    public void Trials_pair_by_epoch_and_only_on_common_episodes()
    {
        // b played epoch 2 only on the first 3 episodes and never played e09.
        List<TrialSpec> trials = [.. Optimal("a", "1111111111"), .. Optimal("a", "1111111111", epoch: 2),
            .. Optimal("b", "000000000"), .. Optimal("b", "111", epoch: 2)];

        var row = Assert.Single(Loaded.Model(trials).Comparisons);

        Assert.Equal(9, row.Episodes);
        Assert.Equal(12L, row.Pairs);
        Assert.Equal((9L, 0L), (row.OnlyA, row.OnlyB));
        // Per-episode means: a 1 everywhere; b 0.5 on three episodes, 0 on six → difference (3·0.5 + 6·1) / 9.
        Assert.Equal(7.5 / 9, row.Difference.Estimate, 12);
    }

    [Fact]
    public void P_values_are_holm_adjusted_over_every_pair()
    {
        var model = Loaded.Model([.. Optimal("a", "11111111111111111111"), .. Optimal("b", "11111111111111100000"), .. Optimal("c", "00000000000000000000")]);

        var raw = model.Comparisons.Select(c => c.PValue).ToArray();

        Assert.Equal(3, raw.Length);
        Assert.Equal(HolmBonferroni.Adjust(raw), model.Comparisons.Select(c => c.PAdjusted));
        Assert.Equal([("a", "b"), ("a", "c"), ("b", "c")], model.Comparisons.Select(c => (c.A.Model, c.B.Model)));
        Assert.Equal(McNemarTest.ExactTwoSidedPValue(5, 0), raw[0], 12);
    }

    [Fact]
    public void Entries_without_common_episodes_have_no_test()
    {
        var model = Loaded.Model([.. Optimal("a", "1111"), .. Optimal("b", "0000").Select(t => t with { Episode = "x" + t.Episode })]);

        var row = Assert.Single(model.Comparisons);

        Assert.Equal(0, row.Episodes);
        Assert.True(double.IsNaN(row.PValue));
        Assert.True(double.IsNaN(row.PAdjusted));
        Assert.False(row.Difference.IsDefined);
    }
}

public class ComparisonPairingTests
{
    [Fact]
    public void Models_are_compared_within_a_prompt_condition_and_prompt_free_agents_with_everyone()
    {
        var model = Loaded.Model(Fixtures.Ablation(episodes: 3));

        // 2 models under each of 12 conditions: 12 pairs; the built-in reference against all 24 prompted entries.
        Assert.Equal(12 + 24, model.Comparisons.Count);
        Assert.All(model.Comparisons, c => Assert.True(
            (c.A.Variant, c.A.Naming) == (c.B.Variant, c.B.Naming) || c.A.Model == "builtin/expert" || c.B.Model == "builtin/expert"));
    }
}
