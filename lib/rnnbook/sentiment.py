"""``python -m rnnbook.sentiment``: the lab's command, whose code lives in :mod:`rnnbook.lab.sentiment`."""

if __name__ == "__main__":
    from rnnbook.lab.sentiment import main

    main()
