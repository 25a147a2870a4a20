"""Demo items whose prompt is a conversation."""

from ._text import t as _t

ITEMS: list[dict] = [
    # --- conversations ---------------------------------------------------------------------------------------
    {
        "id": "demo-chat-trip-planning",
        "topic": "conversation",
        "messages": [
            {"role": "system", "content": "You are a concise, friendly travel assistant."},
            {"role": "user", "content": "I have three days in Lisbon in April. Any must-sees?"},
            {
                "role": "assistant",
                "content": "Alfama and the castle, Belém's monastery and tower, and a day trip to Sintra.",
            },
            {"role": "user", "content": "I don't like crowds. How do I do Sintra without them?"},
        ],
        "candidates": [
            _t("""
                Go on a weekday and arrive by the first train from Rossio (around 8:00), then head straight to
                Pena Palace before the tour buses, booking a timed ticket online. Afterwards, quieter choices are
                Monserrate and the Capuchos convent rather than the busy Quinta da Regaleira. Avoid driving:
                parking is scarce and roads are narrow.
            """),
            _t("Sintra is always crowded, you should skip it."),
        ],
    },
    {
        "id": "demo-chat-debug-session",
        "topic": "conversation",
        "messages": [
            {"role": "user", "content": "My Flask app says `TemplateNotFound: index.html`."},
            {
                "role": "assistant",
                "content": "Where is index.html relative to the file that creates the Flask app?",
            },
            {"role": "user", "content": "It's in the same folder as app.py."},
        ],
        "candidates": [
            _t("""
                Flask looks for templates in a folder named `templates` next to your application module. Move
                the file there:

                ```
                app.py
                templates/
                    index.html
                ```

                Then `render_template("index.html")` works. If you really want another location, pass it
                explicitly: `Flask(__name__, template_folder=".")`.
            """),
            _t("Try reinstalling Flask, the package may be corrupted."),
        ],
    },
    {
        "id": "demo-chat-recipe",
        "topic": "conversation",
        "messages": [
            {"role": "user", "content": "I want to bake bread but I have no yeast."},
            {"role": "assistant", "content": "You could make soda bread. Do you have baking soda and buttermilk?"},
            {"role": "user", "content": "Baking soda yes, buttermilk no. I have milk and lemons."},
        ],
        "candidates": [
            _t("""
                Perfect: make your own buttermilk. Stir 1 tablespoon of lemon juice into 400 ml of milk and let it
                sit for 10 minutes until it thickens slightly. Then mix 500 g flour, 1 tsp baking soda and 1 tsp
                salt, add the soured milk, bring it together into a soft dough without kneading much, shape a
                round, cut a deep cross on top and bake at 200 °C for 35-40 minutes, until it sounds hollow when
                tapped underneath.
            """),
            _t("Without buttermilk it will not work, sorry."),
        ],
    },
]
