using System.CommandLine;
using System.Globalization;
using CausalEval.Core;
using CausalEval.Core.Tasks;
using CausalEval.Prompts.Naming;
using CausalEval.Prompts.Stats;
using CausalEval.Prompts.Templates;

namespace CausalEval.Cli.Commands;

/// <summary><c>causaleval prompts list | stats</c>: the prompt variants, and what each variant × naming scheme costs.</summary>
internal static class PromptsCommand
{
    public static Command Create(CliConsole console)
    {
        var list = new Command("list", "Prompt variants per task family, and the naming schemes");
        list.SetAction(_ =>
        {
            var library = PromptLibrary.Locate();
            console.Out.WriteLine($"prompts: {library.Root}");
            foreach (var family in PromptLibrary.Families)
            {
                foreach (var variant in library.Variants(family))
                {
                    var entry = library.Get(family, variant);
                    console.Out.WriteLine($"  {family}/{variant}{(variant == PromptLibrary.DefaultVariant ? " (default)" : "")}: {entry.Config.Description}");
                }
            }
            console.Out.WriteLine($"naming schemes (--names): {string.Join(", ", NamingSchemes.All)} (default {NamingSchemes.Default})");
            return CliApp.Ok;
        });

        var task = new Option<string>("--task") { Description = "Task whose test episode is priced", DefaultValueFactory = _ => "explore-exploit" };
        var episode = new Option<int>("--episode") { Description = "Index of the test episode (0-based)", DefaultValueFactory = _ => 0 };
        var datasets = CommonOptions.Datasets();
        var stats = new Command("stats", "Estimated prompt tokens of every standard variant × naming scheme for one test episode") { task, episode, datasets };
        stats.SetAction(async (parse, cancellationToken) =>
        {
            var catalog = TaskCatalog.Locate(parse.GetValue(datasets));
            var id = parse.GetValue(task)!;
            var index = parse.GetValue(episode);
            var definition = catalog.Load(id);
            var chosen = catalog.LoadEpisodes(definition, TaskDefinition.TestSplit, index + 1).Skip(index).FirstOrDefault()
                ?? throw new InputException("--episode", index.ToString(CultureInfo.InvariantCulture), $"the test split of {id} has fewer episodes");
            var costs = await PromptStats.MeasureAsync(PromptLibrary.Locate(), definition, chosen, PromptLibrary.StandardVariants, NamingSchemes.All, cancellationToken)
                .ConfigureAwait(false);
            await console.Out.WriteAsync(PromptStats.ToMarkdown(costs, definition, chosen)).ConfigureAwait(false);
            return CliApp.Ok;
        });
        return new Command("prompts", "Prompt templates of the LLM agents") { list, stats };
    }
}
