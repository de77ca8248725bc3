using System.CommandLine;
using System.Globalization;
using CausalEval.Baseline;
using CausalEval.Core;
using CausalEval.Core.OddOneOut;
using CausalEval.Core.Running;
using CausalEval.Core.Tasks;

namespace CausalEval.Cli.Commands;

/// <summary><c>causaleval baseline train | evaluate</c>: the TorchSharp imitation baseline.</summary>
internal static class BaselineCommand
{
    public static Command Create(CliConsole console, IReadOnlyList<string> commandLine)
    {
        var command = new Command("baseline", "Train and evaluate the TorchSharp imitation baseline (play it with run --model torch/<checkpoint>)");
        command.Add(Train(console, commandLine));
        command.Add(Evaluate(console, commandLine));
        command.Add(Data(console));
        return command;
    }

    private const string DagFamily = "dag";

    /// <summary>The options that define a recipe (what to train on and how), shared by train and data.</summary>
    private sealed class RecipeOptions
    {
        public Option<string[]> Tasks { get; } = new("--task")
        {
            Description = $"Task whose train split to imitate (repeatable; default: {string.Join(", ", TrainingOptions.DefaultTasks)}; "
                + $"with --family odd-one-out: {string.Join(", ", TrainingOptions.OddOneOut.Tasks)})",
        };

        public Option<string> Family { get; } = FamilyOption();

        private static Option<string> FamilyOption()
        {
            var option = new Option<string>("--family")
            {
                Description = "dag (the causal-DAG imitation baseline) or odd-one-out (the explanation baseline: its own network, tasks and defaults)",
                DefaultValueFactory = _ => DagFamily,
            };
            option.AcceptOnlyFromAmong(DagFamily, TaskDefinition.OddOneOutFamily);
            return option;
        }

        public Option<int> Episodes { get; } = new("--episodes") { Description = "Expert episodes per task", DefaultValueFactory = _ => new TrainingOptions().EpisodesPerTask };

        public Option<string?> Datasets { get; } = CommonOptions.Datasets();

        public void AddTo(Command command)
        {
            command.Add(Family);
            command.Add(Tasks);
            command.Add(Episodes);
            command.Add(Datasets);
        }

        public bool OddOneOut(ParseResult parse) => parse.GetValue(Family) == TaskDefinition.OddOneOutFamily;

        public (TaskCatalog Catalog, List<TaskDefinition> Tasks, int Episodes, HeldOutRules Rules) Read(ParseResult parse)
        {
            var catalog = TaskCatalog.Locate(parse.GetValue(Datasets));
            var odd = OddOneOut(parse);
            var ids = parse.GetValue(Tasks) is { Length: > 0 } chosen ? [.. chosen.Distinct()] : odd ? TrainingOptions.OddOneOut.Tasks : TrainingOptions.DefaultTasks;
            if (odd)
            {
                if (ids.Count != 1)
                {
                    throw new InputException("--task", string.Join(" ", ids), "an odd-one-out recipe trains on one task's train split");
                }
                var task = catalog.Load(ids[0]);
                if (task.Family != TaskDefinition.OddOneOutFamily)
                {
                    throw new InputException("--task", task.Id, $"belongs to the {task.Family} family; --family odd-one-out trains on odd-one-out tasks");
                }
                var episodes = parse.GetResult(Episodes) is { Implicit: false } ? parse.GetValue(Episodes) : task.Train.Episodes;
                return (catalog, [task], AtLeast("--episodes", episodes, 1), HeldOutRules.None);
            }
            // Every task of the catalog is an evaluation of the checkpoint (run's default suite): none of their held-out
            // links, held-out subsets or evaluation episodes may reach any source of the training data.
            var tasks = ids.Select(catalog.Load).ToList();
            if (tasks.FirstOrDefault(t => !TaskDefinition.IsDagFamily(t.Family)) is { } other)
            {
                throw new InputException("--task", other.Id, $"belongs to the {other.Family} family: train it with --family {other.Family}");
            }
            return (catalog, tasks, AtLeast("--episodes", parse.GetValue(Episodes), 1), HeldOutRules.From(catalog));
        }
    }

    /// <summary><c>baseline data</c>: the exact demonstrations a recipe trains on, one JSON line per episode.</summary>
    private static Command Data(CliConsole console)
    {
        var recipe = new RecipeOptions();
        var output = new Option<string?>("--out") { Description = "Write to this file instead of standard output" };
        var command = new Command("data", "List the exact training episodes of a recipe (task, split, episode, world, target, subset; odd-one-out: the dataset line), one JSON line each");
        recipe.AddTo(command);
        command.Add(output);
        command.SetAction(parse =>
        {
            var (_, tasks, episodes, rules) = recipe.Read(parse);
            var odd = recipe.OddOneOut(parse);
            // An odd-one-out recipe trains on the first N train episodes of its one task, written as dataset lines are.
            var (selected, sources) = odd
                ? ([], [new DemonstrationSource(tasks[0].Id, tasks[0].Version, TaskDefinition.TrainSplit, episodes, []) { Drawn = episodes }])
                : Demonstrations.Select(tasks, episodes, rules);
            void Write(TextWriter writer)
            {
                foreach (var episode in odd ? OddOneOutGenerator.Generate(tasks[0], TaskDefinition.TrainSplit, episodes) : [])
                {
                    writer.Write(OddOneOutJson.ToLine(episode, TaskDefinition.TrainSplit));
                    writer.Write('\n');
                }
                foreach (var (task, episode) in selected)
                {
                    writer.Write(DemonstrationJson.Line(task, episode));
                    writer.Write('\n');
                }
            }
            if (parse.GetValue(output) is { } file)
            {
                var temp = file + ".tmp";
                using (var writer = new StreamWriter(temp, append: false, new System.Text.UTF8Encoding(false)))
                {
                    Write(writer);
                }
                File.Move(temp, file, overwrite: true);
            }
            else
            {
                Write(console.Out);
                console.Out.Flush();
            }
            foreach (var source in odd ? [] : sources)
            {
                var skipped = source.Skipped.Count == 0 ? "none" : string.Join(", ", source.Skipped.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Value} for {p.Key}")));
                console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{source.Task}: {source.Episodes} episodes (train indices drawn {source.Drawn}; excluded links {string.Join(" ", source.ExcludedLinks)}, subsets {string.Join(" ", source.ExcludedSubsets)}; skipped {skipped})"));
            }
            if (odd)
            {
                console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{tasks[0].Id}: {episodes} episodes (train indices 0–{episodes - 1}; the generator redraws any validation or test episode)"));
            }
            return CliApp.Ok;
        });
        return command;
    }

    private static NetworkShape Shape(NetworkShape defaults, int layers, int width)
    {
        AtLeast("--layers", layers, 1);
        if (AtLeast("--width", width, defaults.Heads) % defaults.Heads != 0)
        {
            throw new InputException("--width", width.ToString(CultureInfo.InvariantCulture), $"must be a multiple of the {defaults.Heads} attention heads");
        }
        return defaults with { Layers = layers, Width = width, HiddenWidth = 2 * width };
    }

    private static Command Train(CliConsole console, IReadOnlyList<string> commandLine)
    {
        var defaults = new TrainingOptions();
        var recipe = new RecipeOptions();
        var steps = new Option<int>("--steps") { Description = "Optimiser steps", DefaultValueFactory = _ => defaults.Steps };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the weights, the minibatch order and the expert's environment", DefaultValueFactory = _ => 0 };
        var batch = new Option<int>("--batch-size") { Description = "Episodes per minibatch", DefaultValueFactory = _ => defaults.BatchSize };
        var rate = new Option<double>("--learning-rate") { Description = "Peak learning rate", DefaultValueFactory = _ => defaults.LearningRate };
        var threads = new Option<int>("--threads") { Description = "libtorch threads", DefaultValueFactory = _ => defaults.Threads };
        var layers = new Option<int>("--layers") { Description = "Transformer blocks", DefaultValueFactory = _ => defaults.Network.Layers };
        var width = new Option<int>("--width")
        {
            Description = $"Model width (a multiple of the {defaults.Network.Heads} heads; the MLP is twice as wide)",
            DefaultValueFactory = _ => defaults.Network.Width,
        };
        var data = new Option<string>("--data")
        {
            Description = "interventional (the expert's experiments) or observational (the control: samples without interventions, exploit labels only)",
            DefaultValueFactory = _ => "interventional",
        };
        data.AcceptOnlyFromAmong("interventional", "observational");
        var explanations = new Option<string>("--explanations")
        {
            Description = "odd-one-out: the auxiliary explanation loss. off: none; context: after each experiment pick, its explanation (the concept's dimension, "
                + "correct / incorrect) from the context; on: that, and at each experiment pick whether the environment explains it as correct, from the picked object's representation",
            DefaultValueFactory = _ => "off",
        };
        explanations.AcceptOnlyFromAmong("off", "context", "on");
        var evalEpisodes = new Option<int?>("--eval-episodes") { Description = "Score only the first N validation (and test) episodes of each task for the model card" };
        var validationOnly = new Option<bool>("--validation-only") { Description = "Score the validation splits only (choose recipes on these; test is scored once, for the final recipe)" };
        var seeds = new Option<int>("--seeds")
        {
            Description = "Train the recipe with seeds S, S+1, … S+N−1, score each on validation and test, keep the seed best on validation (card: seed_study)",
            DefaultValueFactory = _ => 1,
        };
        var output = new Option<string?>("--out") { Description = "Checkpoint folder (default: models/torch/<time>)" };
        var quiet = new Option<bool>("--quiet") { Description = "No progress output" };
        var command = new Command("train", "Imitate the expert on train splits; write model.bin and model.json (with validation and test scores)")
        {
            steps, seed, batch, rate, threads, layers, width, data, explanations, evalEpisodes, validationOnly, seeds, output, quiet,
        };
        recipe.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (catalog, definitions, episodesPerTask, rules) = recipe.Read(parse);
            var odd = recipe.OddOneOut(parse);
            // An option not given takes the family's default (the odd-one-out recipe is smaller: 4 objects, 7 decisions).
            var family = odd ? TrainingOptions.OddOneOut : defaults;
            int Value(Option<int> option, int fallback) => parse.GetResult(option) is { Implicit: false } ? parse.GetValue(option) : fallback;
            double Rate() => parse.GetResult(rate) is { Implicit: false } ? parse.GetValue(rate) : family.LearningRate;
            if (!odd && parse.GetResult(explanations) is { Implicit: false })
            {
                throw new InputException("--explanations", parse.GetValue(explanations)!, "applies to --family odd-one-out only");
            }
            if (odd && parse.GetResult(data) is { Implicit: false } && parse.GetValue(data) != "interventional")
            {
                throw new InputException("--data", parse.GetValue(data)!, "the odd-one-out recipe imitates the expert's own experiments (interventional) only");
            }
            var options = family with
            {
                Tasks = [.. definitions.Select(d => d.Id)],
                EpisodesPerTask = episodesPerTask,
                Steps = AtLeast("--steps", Value(steps, family.Steps), 1),
                Seed = parse.GetValue(seed),
                BatchSize = AtLeast("--batch-size", Value(batch, family.BatchSize), 1),
                LearningRate = Rate() is > 0 and var lr ? lr
                    : throw new InputException("--learning-rate", Rate().ToString(CultureInfo.InvariantCulture), "must be positive"),
                Threads = AtLeast("--threads", parse.GetValue(threads), 1),
                Data = parse.GetValue(data) == "observational" ? DataCondition.Observational : DataCondition.Interventional,
                Explanations = !odd ? ExplanationTargets.Off : parse.GetValue(explanations) switch
                {
                    "on" => ExplanationTargets.On,
                    "context" => ExplanationTargets.Context,
                    _ => ExplanationTargets.Off,
                },
                Network = Shape(family.Network, Value(layers, family.Network.Layers), Value(width, family.Network.Width)),
            };
            var evaluated = odd ? catalog.TaskIds().Where(id => catalog.Load(id).Family == TaskDefinition.OddOneOutFamily).ToList() : catalog.DagTaskIds();
            var selectionTasks = SeedSelection.Tasks(options, odd);
            if (parse.GetValue(evalEpisodes) is { } n)
            {
                AtLeast("--eval-episodes", n, 1);
            }
            var seedCount = AtLeast("--seeds", parse.GetValue(seeds), 1);
            var folder = parse.GetValue(output) ?? Path.Combine("models", TorchModelProvider.ModelPrefix, DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
            if (Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Any()
                && !File.Exists(Path.Combine(folder, ModelCard.FileName)))
            {
                throw new InputException("--out", folder, "the folder is neither empty nor a checkpoint folder; choose another");
            }
            var quietly = parse.GetValue(quiet);
            void Log(string line)
            {
                if (!quietly)
                {
                    console.Error.WriteLine(line);
                }
            }

            var started = DateTime.UtcNow;
            var trainCommand = string.Join(' ', ["causaleval", .. commandLine]);
            var study = new List<(ITorchCheckpoint Policy, ModelCard Card, SeedResult Result)>();
            for (var k = 0; k < seedCount; k++)
            {
                var seedOptions = options with { Seed = options.Seed + (ulong)k };
                var progress = new SyncProgress<TrainingProgress>(p => Log(string.Create(CultureInfo.InvariantCulture,
                    $"progress: step {p.Step}/{p.Steps} loss {p.Loss:0.000} {(odd ? "experiment" : "explore")} acc {F(p.ExploreAccuracy)} exploit acc {F(p.ExploitAccuracy)} ({p.Elapsed.TotalSeconds:0.0} s)")));
                ITorchCheckpoint policy;
                ModelCard trained;
                if (odd)
                {
                    var set = OddDemonstrations.Build(definitions[0], seedOptions.EpisodesPerTask, OddEncoderShape.Default, k == 0 ? Log : null);
                    Log(string.Create(CultureInfo.InvariantCulture,
                        $"seed {seedOptions.Seed}: {set.Episodes} sequences of {set.Tokens} tokens (explanations {seedOptions.Explanations.ToString().ToLowerInvariant()})"));
                    var oddResult = OddTrainer.Train(set, seedOptions, trainCommand, progress, cancellationToken);
                    (policy, trained) = (new OddPolicy(oddResult.Network, oddResult.Card), oddResult.Card);
                }
                else
                {
                    var set = Demonstrations.Build(definitions, seedOptions.EpisodesPerTask, seedOptions.Data, seedOptions.Seed, seedOptions.Encoder, rules,
                        k == 0 ? Log : null);
                    Log(string.Create(CultureInfo.InvariantCulture,
                        $"seed {seedOptions.Seed}: {set.Episodes} sequences of up to {set.Tokens} tokens ({seedOptions.Data.ToString().ToLowerInvariant()})"));
                    var dagResult = Trainer.Train(set, seedOptions, trainCommand, progress, cancellationToken);
                    (policy, trained) = (new TorchPolicy(dagResult.Network, dagResult.Card), dagResult.Card);
                }
                Log(string.Create(CultureInfo.InvariantCulture,
                    $"seed {seedOptions.Seed}: fits its training data to {(odd ? "experiment" : "explore")} acc {F(trained.Training.TrainingSetExploreAccuracy)}, exploit acc {F(trained.Training.TrainingSetExploitAccuracy)}{(odd ? ", explanation concept acc " + F(trained.Training.TrainingSetConceptAccuracy) : "")}; scoring validation{(parse.GetValue(validationOnly) ? "" : " and test")}…"));
                var validation = await Evaluation.RunAsync(policy, catalog, evaluated, parse.GetValue(evalEpisodes), 0, cancellationToken, split: TaskDefinition.ValidationSplit)
                    .ConfigureAwait(false);
                var test = parse.GetValue(validationOnly) ? null
                    : await Evaluation.RunAsync(policy, catalog, evaluated, parse.GetValue(evalEpisodes), 0, cancellationToken).ConfigureAwait(false);
                var card = trained with { ValidationScores = validation.Scores, TestScores = test?.Scores ?? [] };
                var seedResult = new SeedResult
                {
                    Seed = seedOptions.Seed,
                    SelectionScore = SeedSelection.Score(validation.Scores, selectionTasks),
                    FinalLoss = card.Training.FinalLoss,
                    FinalExploitAccuracy = card.Training.TrainingSetExploitAccuracy,
                    ValidationScores = validation.Scores,
                    TestScores = test?.Scores ?? [],
                };
                Log($"seed {seedOptions.Seed}: validation");
                if (!quietly)
                {
                    WriteScores(console.Error, validation.Scores);
                }
                study.Add((policy, card, seedResult));
            }
            // Only validation decides: the seed with the best selection score (the lowest seed on a tie).
            var best = study.OrderByDescending(s => s.Result.SelectionScore).ThenBy(s => s.Result.Seed).First();
            var chosen = best.Card with
            {
                SeedStudy = seedCount > 1 ? [.. study.Select(s => s.Result)] : [],
                Selection = seedCount > 1 ? $"seed {best.Result.Seed}: the best of {seedCount} seeds on validation ({SeedSelection.Description(selectionTasks)})" : null,
            };
            var saved = best.Policy.Save(folder, chosen);
            foreach (var (policy, _, _) in study)
            {
                policy.Dispose();
            }
            if (saved.TestScores.Count > 0)
            {
                WriteScores(console.Out, saved.TestScores, TaskDefinition.TestSplit);
            }
            WriteScores(console.Out, saved.ValidationScores);
            var size = new FileInfo(Path.Combine(folder, ModelCard.WeightsFileName)).Length;
            await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"checkpoint: {folder} ({ModelCard.WeightsFileName} {size / 1024.0:0} KiB, sha256 {saved.WeightsSha256}; {saved.Architecture.Parameters:N0} parameters; " +
                $"seed {saved.Training.Seed}, trained in {saved.Training.Seconds:0.0} s, {(DateTime.UtcNow - started).TotalSeconds:0.0} s in all)")).ConfigureAwait(false);
            return CliApp.Ok;
        });
        return command;
    }

    private static Command Evaluate(CliConsole console, IReadOnlyList<string> commandLine)
    {
        var model = new Option<string>("--model") { Description = "Checkpoint: torch/<name-or-path>", DefaultValueFactory = _ => TorchModelProvider.DefaultModelId };
        var tasks = new Option<string[]>("--task") { Description = "Task id (repeatable; default: every task)" };
        var episodes = new Option<int?>("--episodes") { Description = "Only the first N episodes of each test split" };
        var seed = new Option<ulong>("--seed") { Description = "Run seed, as for run", DefaultValueFactory = _ => 0 };
        var split = new Option<string>("--split") { Description = "test or validation", DefaultValueFactory = _ => TaskDefinition.TestSplit };
        split.AcceptOnlyFromAmong([.. TaskDefinition.CommittedSplits]);
        var datasets = CommonOptions.Datasets();
        var output = new Option<string?>("--out") { Description = "Run folder (default: results/<run-id>); `causaleval report` reads it" };
        var command = new Command("evaluate", "Score a checkpoint on test (or validation) splits as run does, with subset adherence and inference time per decision")
        {
            model, tasks, episodes, seed, split, datasets, output,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var modelId = parse.GetValue(model)!;
            var prefix = TorchModelProvider.ModelPrefix + "/";
            if (!modelId.StartsWith(prefix, StringComparison.Ordinal) || modelId.Length == prefix.Length)
            {
                throw new InputException("--model", modelId, "expected torch/<name-or-path>");
            }
            if (parse.GetValue(episodes) is { } n)
            {
                AtLeast("--episodes", n, 1);
            }
            var catalog = TaskCatalog.Locate(parse.GetValue(datasets));
            var taskIds = parse.GetValue(tasks) is { Length: > 0 } chosen ? chosen.Distinct().ToList() : catalog.DagTaskIds();
            foreach (var id in taskIds)
            {
                catalog.Load(id);
            }
            var policy = TorchModelProvider.Load(TorchModelProvider.Locate(modelId[prefix.Length..], modelId), modelId);
            var identity = new RunIdentity { CommandLine = ["causaleval", .. commandLine], ToolVersion = BuildInfo.Version, GitRevision = BuildInfo.GitRevision };
            var evaluation = await Evaluation.RunAsync(policy, catalog, taskIds, parse.GetValue(episodes), parse.GetValue(seed), cancellationToken,
                parse.GetValue(output) ?? Path.Combine("results", RunSession.NewRunId(DateTimeOffset.UtcNow)), modelId, identity, parse.GetValue(split)!).ConfigureAwait(false);
            await console.Out.WriteLineAsync($"{modelId} ({policy.Card.Data.Condition.ToString().ToLowerInvariant()} data, seed {policy.Card.Training.Seed}, {policy.Card.Training.Steps} steps)")
                .ConfigureAwait(false);
            WriteScores(console.Out, evaluation.Scores, parse.GetValue(split)!);
            await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"inference: {evaluation.MillisecondsPerDecision:0.000} ms per decision ({evaluation.Decisions:N0} decisions, one at a time)")).ConfigureAwait(false);
            await console.Out.WriteLineAsync($"results: {evaluation.Run.Directory}").ConfigureAwait(false);
            return evaluation.Run.Status == RunStatus.Finished ? CliApp.Ok : CliApp.Failed;
        });
        return command;
    }

    private static void WriteScores(TextWriter o, IReadOnlyList<TaskScores> scores, string split = TaskDefinition.ValidationSplit)
    {
        o.WriteLine($"| task ({split}) | episodes | normalized | optimal | coverage | subset adherence | structure F1 | invalid | errors |");
        o.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var s in scores)
        {
            o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {s.Task} | {s.Episodes} | {s.Normalized:0.000} | {s.OptimalAction:0.000} | {F(s.ExploreCoverage)} | {F(s.SubsetAdherence)} | {F(s.StructureF1)} | {100 * s.InvalidRate:0.0}% | {s.Errors} |"));
        }
    }

    private static string F(double? value) => value is { } v ? v.ToString("0.000", CultureInfo.InvariantCulture) : "—";

    private static int AtLeast(string option, int value, int minimum) => value >= minimum
        ? value
        : throw new InputException(option, value.ToString(CultureInfo.InvariantCulture), $"must be at least {minimum}");

    /// <summary>Reports on the caller's thread (Progress&lt;T&gt; would post to the thread pool, out of order).</summary>
    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
