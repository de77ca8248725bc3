using CausalEval.Reporting.Analysis;
using CausalEval.Reporting.Tests.Support;

namespace CausalEval.Reporting.Tests.Analysis;

public class AblationAnalysisTests
{
    [Theory]
    [InlineData("zero-shot", "")]
    [InlineData("few-shot", "shots")]
    [InlineData("few-shot-explanations", "explanations,shots")]
    [InlineData("few-shot-explanations-reasoning", "explanations,reasoning,shots")]
    [InlineData("zero-shot-reasoning", "reasoning")]
    [InlineData("chain-of-thought", null)]
    [InlineData("few-shot-jokes", null)]
    [InlineData("few-shotty", null)]
    public void Variant_names_read_as_factors(string variant, string? factors)
    {
        var parsed = PromptFactors.Parse(variant);

        Assert.Equal(factors, parsed is null ? null : string.Join(",", parsed.Order(StringComparer.Ordinal)));
    }

    [Fact]
    public void The_four_variants_and_three_naming_schemes_give_one_contrast_per_factor_step()
    {
        var contrasts = AblationAnalysis.Contrasts(Fixtures.Variants, Fixtures.Namings);

        Assert.Equal(
        [
            ("shots", "few-shot", "zero-shot"),
            ("explanations", "few-shot-explanations", "few-shot"),
            ("reasoning", "few-shot-explanations-reasoning", "few-shot-explanations"),
            ("names", "semantic", "letters"),
            ("names", "nonsense", "letters"),
            ("names", "semantic", "nonsense"),
        ], contrasts);
    }

    [Fact]
    public void Main_effects_recover_the_effects_built_into_the_trials()
    {
        var ablation = Loaded.Model(Fixtures.Ablation()).Ablation!;

        var all = ablation.Effects.Where(e => e.Scope == AblationAnalysis.AllModels).ToDictionary(e => e.Contrast);
        Assert.Equal(6, all.Count);
        Assert.Equal(0.1, all["few-shot − zero-shot"].Difference.Estimate, 9);
        Assert.Equal(0.2, all["few-shot-explanations − few-shot"].Difference.Estimate, 9);
        Assert.Equal(0.3, all["few-shot-explanations-reasoning − few-shot-explanations"].Difference.Estimate, 9);
        Assert.Equal(0.05, all["semantic − letters"].Difference.Estimate, 9);
        Assert.Equal(0.0, all["nonsense − letters"].Difference.Estimate, 9);
        Assert.Equal(0.05, all["semantic − nonsense"].Difference.Estimate, 9);
        // Episode difficulty and epoch noise cancel in the pairs, so the paired intervals are points.
        Assert.All(all.Values, e => Assert.Equal(0, e.Difference.Width, 9));
        // shots: 2 models × 3 naming schemes × 20 episodes; names: 2 models × 4 variants × 20 episodes.
        Assert.Equal((120, 20), (all["few-shot − zero-shot"].MatchedPairs, all["few-shot − zero-shot"].Episodes));
        Assert.Equal(160, all["semantic − letters"].MatchedPairs);
        // Per-model effects too, and the built-in reference takes no part.
        Assert.Equal(6 * 3, ablation.Effects.Count);
        Assert.Equal(["ollama/beta", "openai/alpha"], ablation.Models);
    }

    [Fact]
    public void Tables_pool_each_model_over_the_other_factor()
    {
        var trials = Fixtures.Ablation();
        var ablation = Loaded.Model(trials).Ablation!;

        var cell = ablation.VariantByModel.Single(c => c.Model == "openai/alpha" && c.Variant == "few-shot");
        var expected = trials.Where(t => t.Model == "openai/alpha" && t.Variant == "few-shot").Average(t => t.Normalized!.Value);
        Assert.Equal(expected, cell.Normalized.Estimate, 12);
        Assert.Equal(AblationAnalysis.Pooled, cell.Naming);
        Assert.Equal(20, cell.Episodes);
        Assert.Equal(2 * 4 * 3, ablation.Cells.Count);
        Assert.Equal(2 * 3, ablation.NamingByModel.Count);
        Assert.Equal(Fixtures.Variants, ablation.Variants);
        Assert.Equal(Fixtures.Namings, ablation.Namings);
    }

    [Fact]
    public void With_trial_noise_the_intervals_have_the_width_the_noise_implies()
    {
        // Per-trial noise uniform on ±0.15 (variance 0.0075) that no longer cancels. A contrast's per-episode cluster
        // averages 8 differences of 2-epoch means: variance 0.0075 / 8; over 40 episodes the standard error is
        // √(0.0075 / 8 / 40) ≈ 0.00484, so a 95% interval is about 0.019 wide.
        var random = new CausalEval.Core.Randomness.SeededRandom(5);
        var trials = Fixtures.Ablation(episodes: 40).Select(t => t with { Normalized = t.Normalized + 0.3 * (random.NextDouble() - 0.5) }).ToList();
        const double StandardError = 0.00484;

        var all = Loaded.Model(trials).Ablation!.Effects.Where(e => e.Scope == AblationAnalysis.AllModels).ToDictionary(e => e.Contrast);

        Assert.All(all.Values, e => Assert.InRange(e.Difference.Width, 0.75 * 3.92 * StandardError, 1.25 * 3.92 * StandardError));
        var reasoning = all["few-shot-explanations-reasoning − few-shot-explanations"];
        Assert.False(reasoning.Difference.Contains(0));
        Assert.InRange(reasoning.Difference.Estimate, 0.3 - 4 * StandardError, 0.3 + 4 * StandardError);
        Assert.InRange(all["nonsense − letters"].Difference.Estimate, -4 * StandardError, 4 * StandardError);
    }

    [Fact]
    public void Runs_with_one_variant_and_one_naming_scheme_have_no_ablation()
    {
        var trials = Fixtures.Ablation().Where(t => t.Variant is null or "few-shot" && t.Naming is null or "letters").ToList();

        Assert.Null(Loaded.Model(trials).Ablation);
    }
}

public class OddOneOutAblationTests
{
    [Fact]
    public void On_odd_one_out_the_explanations_and_reasoning_effects_are_differences_in_the_normalized_exploit_score()
    {
        // Exploit correct or not, normalized (correct − 1/4)/(3/4): 1 or −1/3. Zero-shot and few-shot right in 1 episode of
        // 3, with explanations in 2 of 3, with reasoning too in 3 of 3.
        var right = new Dictionary<string, int> { ["zero-shot"] = 1, ["few-shot"] = 1, ["few-shot-explanations"] = 2, ["few-shot-explanations-reasoning"] = 3 };
        var trials = (from variant in Fixtures.Variants
                      from e in Enumerable.Range(0, 3)
                      let correct = e < right[variant]
                      select new TrialSpec
                      {
                          Task = "odd-one-out-confounded", Episode = $"test-{e:0000}", Model = "openai/alpha", Variant = variant, Naming = "letters",
                          Normalized = correct ? 1.0 : -1.0 / 3, OptimalAction = correct ? 1 : 0, OptimalValue = 1,
                      }).ToList();

        var ablation = Loaded.Model(trials).Ablation!;

        var all = ablation.Effects.Where(e => e.Scope == AblationAnalysis.AllModels).ToDictionary(e => e.Contrast);
        var step = 4.0 / 3 / 3; // one more right episode in three
        Assert.Equal(0.0, all["few-shot − zero-shot"].Difference.Estimate, 9);
        Assert.Equal(step, all["few-shot-explanations − few-shot"].Difference.Estimate, 9);
        Assert.Equal(step, all["few-shot-explanations-reasoning − few-shot-explanations"].Difference.Estimate, 9);
        Assert.Equal(1.0, ablation.VariantByModel.Single(c => c.Variant == "few-shot-explanations-reasoning").Normalized.Estimate, 9);
    }
}
