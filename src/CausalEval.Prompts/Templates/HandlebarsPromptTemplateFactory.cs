using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using HandlebarsDotNet;
using Microsoft.SemanticKernel;

namespace CausalEval.Prompts.Templates;

/// <summary>
/// Semantic Kernel's <see cref="IPromptTemplateFactory"/> for <c>template_format: handlebars</c>, backed by Handlebars.Net
/// (SK's own Handlebars package is not served here). Helpers: <c>join list "sep" ["last sep"]</c>, <c>eq a b</c>,
/// <c>add a b</c>; inline partials (<c>{{#*inline "name"}}</c>) work as in Handlebars.js.
/// </summary>
/// <param name="splitByTurn">Split conversation templates by turn where that renders the same (<see cref="TurnTemplate"/>); false: whole at every step.</param>
/// <param name="stepsChecked">A split template's first steps in a process that are also rendered whole and compared.</param>
internal sealed class HandlebarsPromptTemplateFactory(bool splitByTurn = true, int stepsChecked = TurnTemplate.DefaultStepsChecked) : IPromptTemplateFactory
{
    public const string Format = "handlebars";

    public bool TryCreate(PromptTemplateConfig templateConfig, [NotNullWhen(true)] out IPromptTemplate? result)
    {
        if (string.Equals(templateConfig.TemplateFormat, Format, StringComparison.OrdinalIgnoreCase))
        {
            result = new HandlebarsPromptTemplate(templateConfig, splitByTurn, stepsChecked);
            return true;
        }
        result = null;
        return false;
    }

    private sealed class HandlebarsPromptTemplate : IPromptTemplate, ITurnTemplated
    {
        private readonly HandlebarsTemplate<object, object> _template;

        public HandlebarsPromptTemplate(PromptTemplateConfig config, bool splitByTurn, int stepsChecked)
        {
            var handlebars = Handlebars.Create(new HandlebarsConfiguration { ThrowOnUnresolvedBindingExpression = false, FormatProvider = CultureInfo.InvariantCulture });
            RegisterHelpers(handlebars);
            _template = handlebars.Compile(config.Template);
            Turns = splitByTurn
                ? TurnTemplate.TrySplit(config.Template, text =>
                {
                    var part = handlebars.Compile(text);
                    return context => part(context);
                }, stepsChecked)
                : null;
        }

        public TurnTemplate? Turns { get; }

        public Task<string> RenderAsync(Kernel kernel, KernelArguments? arguments = null, CancellationToken cancellationToken = default)
        {
            var context = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var (name, value) in arguments ?? [])
            {
                context[name] = value;
            }
            return Task.FromResult(_template(context));
        }
    }

    private static void RegisterHelpers(IHandlebars handlebars)
    {
        handlebars.RegisterHelper("join", (context, args) =>
        {
            var items = (args.Length > 0 ? args[0] as System.Collections.IEnumerable : null)?.Cast<object?>().Select(o => Convert.ToString(o, CultureInfo.InvariantCulture) ?? "").ToList() ?? [];
            var separator = args.Length > 1 ? Convert.ToString(args[1], CultureInfo.InvariantCulture) ?? ", " : ", ";
            var last = args.Length > 2 ? Convert.ToString(args[2], CultureInfo.InvariantCulture) ?? separator : separator;
            return items.Count <= 1 ? string.Concat(items) : string.Join(separator, items.Take(items.Count - 1)) + last + items[^1];
        });
        handlebars.RegisterHelper("eq", (context, args) => args.Length == 2 && Equals(Convert.ToString(args[0], CultureInfo.InvariantCulture), Convert.ToString(args[1], CultureInfo.InvariantCulture)));
        handlebars.RegisterHelper("add", (context, args) => args.Sum(a => Convert.ToInt64(a, CultureInfo.InvariantCulture)));
    }
}
