using CausalEval.Core.Randomness;

namespace CausalEval.Reporting.Tests.Support;

/// <summary>Fixed sets of synthetic trials.</summary>
internal static class Fixtures
{
    /// <summary>
    /// The snapshot set: 2 tasks × 6 episodes × 2 epochs; <c>builtin/expert</c> (always optimal),
    /// <c>openai/model-a</c> and <c>openai/model-b</c> under <c>few-shot</c> (close to each other, with tokens, cost,
    /// latency, parse failures and one trial that ended in an error) and <c>builtin/random</c>.
    /// </summary>
    public static List<TrialSpec> Snapshot()
    {
        var random = new SeededRandom(11);
        var trials = new List<TrialSpec>();
        foreach (var task in new[] { "explore-exploit", "passive-exploit-observational" })
        {
            for (var e = 0; e < 6; e++)
            {
                var episode = $"test-{e:0000}";
                for (var epoch = 1; epoch <= 2; epoch++)
                {
                    trials.Add(new TrialSpec { Task = task, Episode = episode, Model = "builtin/expert", Epoch = epoch, StructureF1 = task == "explore-exploit" ? 1 : null, Coverage = task == "explore-exploit" ? 1 : null, LatencyMs = 0.5 + 0.1 * e });
                    foreach (var (model, skill) in new[] { ("openai/model-a", 0.75), ("openai/model-b", 0.7) })
                    {
                        var optimal = random.NextDouble() < skill;
                        var failed = model == "openai/model-b" && task == "explore-exploit" && e == 5 && epoch == 2;
                        trials.Add(new TrialSpec
                        {
                            Task = task, Episode = episode, Model = model, Variant = "few-shot", Epoch = epoch,
                            Normalized = failed ? null : optimal ? 1 : Math.Round(random.NextDouble() - 0.5, 2),
                            OptimalAction = optimal ? 1 : 0,
                            Coverage = task == "explore-exploit" ? 0.8 : null,
                            StructureF1 = task == "explore-exploit" ? 0.5 : null,
                            ParseFailures = random.NextInt(4) == 0 ? 1 : 0,
                            Steps = task == "explore-exploit" ? 6 : 1,
                            InputTokens = 1200 + 10 * e, OutputTokens = 80 + epoch,
                            Cost = 0.0021, LatencyMs = 800 + 37 * e + 11 * epoch,
                            WithMessages = true,
                        });
                    }
                    var pick = random.NextInt(3);
                    trials.Add(new TrialSpec
                    {
                        Task = task, Episode = episode, Model = "builtin/random", Epoch = epoch,
                        Normalized = pick == 0 ? 1 : pick == 1 ? 0 : -1, OptimalAction = pick == 0 ? 1 : 0,
                        Coverage = task == "explore-exploit" ? 0.6 : null, StructureF1 = task == "explore-exploit" ? 0.2 : null,
                        InvalidActions = pick == 2 ? 1 : 0, LatencyMs = 0.2,
                    });
                }
            }
        }
        return trials;
    }

    public static readonly string[] Variants = ["zero-shot", "few-shot", "few-shot-explanations", "few-shot-explanations-reasoning"];

    public static readonly string[] Namings = ["letters", "semantic", "nonsense"];

    /// <summary>
    /// A full prompt ablation with known effects: normalized = base(model) + shots 0.1 + explanations 0.2 + reasoning 0.3
    /// + semantic names 0.05 (nonsense 0), plus episode difficulty shared by every condition and a little per-trial noise
    /// that averages out exactly over each episode's two epochs (+δ, −δ).
    /// </summary>
    public static List<TrialSpec> Ablation(int episodes = 20)
    {
        var random = new SeededRandom(99);
        var difficulty = Enumerable.Range(0, episodes).Select(_ => 0.2 * (random.NextDouble() - 0.5)).ToArray();
        var trials = new List<TrialSpec>();
        foreach (var (model, baseline) in new[] { ("openai/alpha", 0.1), ("ollama/beta", 0.0) })
        {
            foreach (var variant in Variants)
            {
                var effect = variant switch
                {
                    "zero-shot" => 0.0,
                    "few-shot" => 0.1,
                    "few-shot-explanations" => 0.3,
                    _ => 0.6,
                };
                foreach (var naming in Namings)
                {
                    var names = naming == "semantic" ? 0.05 : 0.0;
                    for (var e = 0; e < episodes; e++)
                    {
                        var noise = 0.01 * random.NextDouble();
                        for (var epoch = 1; epoch <= 2; epoch++)
                        {
                            var value = baseline + effect + names + difficulty[e] + (epoch == 1 ? noise : -noise);
                            trials.Add(new TrialSpec
                            {
                                Task = "explore-exploit", Episode = $"test-{e:0000}", Model = model, Variant = variant, Naming = naming, Epoch = epoch,
                                Normalized = value, OptimalAction = value > 0.5 ? 1 : 0, InputTokens = 500, OutputTokens = 20, Cost = 0.001,
                            });
                        }
                    }
                }
            }
        }
        // A built-in reference next to the ablation: no variant, no naming; it takes part in no main effect.
        for (var e = 0; e < episodes; e++)
        {
            trials.Add(new TrialSpec { Task = "explore-exploit", Episode = $"test-{e:0000}", Model = "builtin/expert" });
        }
        return trials;
    }
}
