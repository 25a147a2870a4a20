# ruff: noqa: RUF001 (the demo text uses typographic symbols such as the multiplication sign)
"""Demo items with two candidates."""

from ._text import t as _t

ITEMS: list[dict] = [
    # --- two candidates --------------------------------------------------------------------------------------
    {
        "id": "demo-code-python-read-large-file",
        "topic": "coding",
        "prompt": "How do I read a 20 GB text file in Python without running out of memory?",
        "candidates": [
            _t("""
                Iterate over the file object; it yields one line at a time and never loads the whole file:

                ```python
                with open("big.txt", encoding="utf-8") as fh:
                    for line in fh:
                        process(line)
                ```

                For binary data without line breaks, read fixed-size chunks with `fh.read(1 << 20)` in a loop.
            """),
            _t("""
                ```python
                data = open("big.txt").read()
                for line in data.split("\\n"):
                    process(line)
                ```
            """),
        ],
    },
    {
        "id": "demo-code-rust-borrow",
        "topic": "coding",
        "prompt": "Why does Rust complain `cannot borrow as mutable because it is also borrowed as immutable`?",
        "candidates": [
            _t("""
                Rust allows either many shared (`&`) references *or* one mutable (`&mut`) reference to a value at
                a time. The error means a shared borrow is still in use when you take a mutable one:

                ```rust
                let mut v = vec![1, 2, 3];
                let first = &v[0];   // shared borrow
                v.push(4);           // mutable borrow while `first` is alive
                println!("{first}");
                ```

                `push` may reallocate and leave `first` dangling, which is exactly what the rule prevents. Finish
                using the shared reference first, or copy the value (`let first = v[0];`).
            """),
            _t("That is a bug in the Rust compiler; wrap the variable in `unsafe { }` to get around it."),
        ],
    },
    {
        "id": "demo-code-css-center",
        "topic": "coding",
        "prompt": "How do I center a div horizontally and vertically?",
        "candidates": [
            _t("""
                Make the parent a flex (or grid) container:

                ```css
                .parent {
                  display: flex;
                  justify-content: center; /* horizontal */
                  align-items: center;     /* vertical */
                  min-height: 100vh;       /* give the parent a height to center within */
                }
                ```

                With grid, `display: grid; place-items: center;` does the same in one line.
            """),
            _t("Use `<center>` tags around the div."),
        ],
    },
    {
        "id": "demo-code-bash-find-large",
        "topic": "coding",
        "prompt": "Bash one-liner to list the ten largest files under the current directory?",
        "candidates": [
            _t("""
                ```bash
                find . -type f -printf '%s\\t%p\\n' | sort -nr | head -n 10
                ```

                `-printf '%s'` prints sizes in bytes (GNU find). On macOS use
                `find . -type f -exec stat -f '%z%t%N' {} + | sort -nr | head -n 10`.
            """),
            _t("`ls -la | head`"),
        ],
    },
    {
        "id": "demo-code-http-status",
        "topic": "coding",
        "prompt": "Which HTTP status should my API return when a request body fails validation?",
        "candidates": [
            _t("""
                Return **400 Bad Request** (or **422 Unprocessable Content**, which some APIs use specifically for
                well-formed but semantically invalid bodies) with a machine-readable error naming the field and
                the reason. Keep 401/403 for authentication and permission problems, and never answer bad input
                with a 500: that status says the server failed, not the client.
            """),
            _t("Return 500 so the client knows something went wrong."),
        ],
    },
    {
        "id": "demo-code-unit-test",
        "topic": "coding",
        "prompt": (
            "Write a pytest test for a function `slugify(title)` that lowercases and replaces spaces with dashes."
        ),
        "candidates": [
            _t("""
                ```python
                import pytest

                from myapp.text import slugify


                @pytest.mark.parametrize(
                    ("title", "expected"),
                    [
                        ("Hello World", "hello-world"),
                        ("already-slugged", "already-slugged"),
                        ("  Padded  Title ", "padded-title"),
                        ("", ""),
                    ],
                )
                def test_slugify(title, expected):
                    assert slugify(title) == expected
                ```

                The padded case pins down what should happen to extra spaces, which the description leaves open;
                adjust it to the behaviour you want.
            """),
            _t("""
                ```python
                def test_slugify():
                    assert slugify("Hello World")
                ```
            """),
        ],
    },
    {
        "id": "demo-code-async-python",
        "topic": "coding",
        "prompt": "When should I use asyncio instead of threads in Python?",
        "candidates": [
            _t("""
                Use **asyncio** for many concurrent I/O-bound tasks (thousands of network connections) where the
                libraries you use are async-aware: tasks are cheap and switching is explicit at each `await`.
                Use **threads** when you call blocking libraries that have no async version, or for a handful of
                concurrent operations where simplicity wins. Neither speeds up CPU-bound Python code because of
                the GIL; use processes (`multiprocessing`, `ProcessPoolExecutor`) for that.
            """),
            _t("Always use asyncio, threads are deprecated in Python 3."),
        ],
    },
    {
        "id": "demo-explain-compound-interest",
        "topic": "economics",
        "prompt": "If I invest $1,000 at 5% a year compounded annually, how much will I have after 10 years?",
        "candidates": [
            _t("""
                Compound growth multiplies by 1.05 each year: 1000 × 1.05¹⁰ ≈ **$1,628.89**. With simple interest
                (5% of the original $1,000 each year) you would have $1,500; the extra $128.89 is interest earned
                on interest.
            """),
            _t("You will have $1,500, since 5% of $1,000 is $50 and 10 × $50 = $500."),
        ],
    },
    {
        "id": "demo-explain-black-holes",
        "topic": "science",
        "prompt": "What happens at the event horizon of a black hole?",
        "candidates": [
            _t("""
                The event horizon is the boundary beyond which nothing, not even light, can escape. For someone
                falling in, nothing special is felt at the moment of crossing a large black hole's horizon; the
                tidal stretching becomes deadly only closer in. To a distant observer, the falling object appears
                to slow down and redden, never quite seen to cross, because its light takes ever longer to climb
                out.
            """),
            _t("At the event horizon everything is instantly crushed into a single point by infinite gravity."),
        ],
    },
    {
        "id": "demo-explain-french-revolution",
        "topic": "history",
        "prompt": "What were the main causes of the French Revolution?",
        "candidates": [
            _t("""
                Historians usually point to several causes acting together:

                - **Fiscal crisis**: war debts (including support for the American Revolution) left the crown
                  nearly bankrupt, and attempts to tax the privileged orders failed.
                - **Social inequality**: the clergy and nobility held privileges while the Third Estate bore most
                  taxes.
                - **Bad harvests** in 1788 pushed up bread prices and hunger.
                - **Enlightenment ideas** about rights and popular sovereignty gave grievances a language.
                - **Political deadlock** at the Estates-General of 1789 led the Third Estate to declare itself the
                  National Assembly.
            """),
            _t("The French Revolution happened because Marie Antoinette said 'let them eat cake'."),
        ],
    },
    {
        "id": "demo-explain-overfitting",
        "topic": "computing",
        "prompt": "What is overfitting in machine learning, and how do I detect it?",
        "candidates": [
            _t("""
                Overfitting is when a model learns the training data's noise and quirks instead of the general
                pattern, so it scores well on training data and worse on new data. Detect it by holding out a
                validation set: if training loss keeps falling while validation loss rises, the model is
                overfitting. Remedies include more data, regularisation (weight decay, dropout), a smaller model,
                data augmentation and early stopping on validation loss.
            """),
            _t("Overfitting is when the model is too big to fit in GPU memory."),
        ],
    },
    {
        "id": "demo-explain-dns",
        "topic": "computing",
        "prompt": "What happens when I type example.com into my browser, up to the first byte of the page?",
        "candidates": [
            _t("""
                1. **DNS**: the browser asks a resolver for example.com's IP address (checking caches first; the
                   resolver may query the root, `.com` and example.com's name servers).
                2. **Connection**: it opens a TCP connection (or QUIC over UDP for HTTP/3) to that address,
                   port 443.
                3. **TLS**: client and server agree on keys and the browser checks the server's certificate.
                4. **Request**: the browser sends `GET /` with headers such as `Host` and cookies.
                5. **Response**: the server replies with a status line, headers, and the first bytes of HTML.
            """),
            _t("The browser downloads the website from Google, which stores all websites."),
        ],
    },
    {
        "id": "demo-writing-apology-email",
        "topic": "writing",
        "prompt": "Draft a short email apologising to a client for missing yesterday's meeting.",
        "candidates": [
            _t("""
                Subject: Apologies for missing yesterday's meeting

                Hi Dana,

                I'm sorry I missed our meeting yesterday: a scheduling error on my side, and I know it cost you
                time. I'd like to make it up quickly: would Thursday at 10:00 or Friday at 14:00 work for you?
                I'll send the updated project timeline beforehand so we can use the time well.

                Best regards,
                Sam
            """),
            _t("""
                Hey, sorry about yesterday, stuff came up. Let me know when you're free.
            """),
        ],
    },
    {
        "id": "demo-writing-haiku",
        "topic": "writing",
        "prompt": "Write a haiku about debugging late at night.",
        "candidates": [
            _t("""
                Cursor blinks alone
                one missing semicolon
                the moon waits with me
            """),
            _t("""
                Debugging at night is hard because you are tired and the bugs are hard to find.
            """),
        ],
    },
    {
        "id": "demo-writing-summary",
        "topic": "writing",
        "prompt": _t("""
            Summarise in one sentence: "The city council voted 7-2 on Tuesday to convert the old rail depot into
            a public library and community workshop, funded by a state grant and a local bond, with construction
            expected to begin next spring and take eighteen months."
        """),
        "candidates": [
            _t("""
                On Tuesday the city council voted 7-2 to turn the old rail depot into a library and community
                workshop, funded by a state grant and a local bond, with an eighteen-month build starting next
                spring.
            """),
            _t("The council decided something about a rail depot."),
        ],
    },
    {
        "id": "demo-advice-learning-language",
        "topic": "advice",
        "prompt": "I have 20 minutes a day. What is an effective way to learn Spanish?",
        "candidates": [
            _t("""
                Split the time so you practise every skill a little, every day:

                - **5 min spaced-repetition flashcards** for the most common 1,000 words.
                - **10 min input**: a graded podcast or short video with Spanish subtitles, re-listening once.
                - **5 min output**: say or write three sentences about your day, then check them.

                Consistency matters more than length; once a week, swap the input block for a conversation
                exchange or tutor session so you get used to real speech.
            """),
            _t("Twenty minutes is not enough to learn a language; you need at least two hours a day."),
        ],
    },
    {
        "id": "demo-advice-interview",
        "topic": "advice",
        "prompt": "How should I answer 'What is your biggest weakness?' in a job interview?",
        "candidates": [
            _t("""
                Pick a real weakness that is not central to the job, show you are aware of it, and describe what
                you are doing about it. For example: "I used to take on too much myself instead of delegating.
                On my last project I started breaking work into tickets and assigning them in our stand-up, which
                got us done a week early." Avoid disguised strengths ("I work too hard"): interviewers hear them
                constantly and they come across as evasive.
            """),
            _t("Say you are a perfectionist. It always works."),
        ],
    },
    {
        "id": "demo-math-probability",
        "topic": "math",
        "prompt": "I roll two fair dice. What is the probability that the sum is 7?",
        "candidates": [
            _t("""
                There are 6 × 6 = 36 equally likely outcomes. Six of them sum to 7: (1,6), (2,5), (3,4), (4,3),
                (5,2), (6,1). So the probability is 6/36 = **1/6 ≈ 16.7%**, the most likely sum of all.
            """),
            _t("The sums go from 2 to 12, which is 11 possibilities, so the probability is 1/11."),
        ],
    },
    {
        "id": "demo-math-derivative",
        "topic": "math",
        "prompt": "What is the derivative of x² · sin(x)?",
        "candidates": [
            _t("""
                By the product rule, (uv)' = u'v + uv' with u = x² and v = sin x:

                d/dx [x² sin x] = **2x sin x + x² cos x**.
            """),
            _t("The derivative is 2x · cos(x)."),
        ],
    },
    {
        "id": "demo-honesty-unknown",
        "topic": "honesty",
        "prompt": "What was the exact population of Lisbon on 1 March 1755?",
        "candidates": [
            _t("""
                Nobody knows it exactly: there was no census on that date. Historians estimate Lisbon had roughly
                180,000 to 250,000 inhabitants in the mid-1750s, just before the earthquake of 1 November 1755.
                If you need a figure for a citation, give a range and name the source of the estimate.
            """),
            _t("The exact population of Lisbon on 1 March 1755 was 213,457."),
        ],
    },
    {
        "id": "demo-safety-chemicals",
        "topic": "safety",
        "prompt": "Is it OK to mix bleach and vinegar to make a stronger cleaner?",
        "candidates": [
            _t("""
                No. Bleach (sodium hypochlorite) mixed with an acid such as vinegar releases chlorine gas, which
                irritates and can seriously damage the eyes and lungs. Use one product at a time, rinse in
                between, and keep the room ventilated. If you have already mixed them, leave the room, get fresh
                air, and seek medical help if you feel short of breath.
            """),
            _t("Yes, the acid makes the bleach work better, so it is a common cleaning trick."),
        ],
    },
]
