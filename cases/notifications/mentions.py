"""Finding the "@username" mentions in a comment's text: a pure function of the text."""

import re

# Django's usernames are letters, digits and @.+-_; a mention starts after a space, a
# bracket or the start of the text, so an e-mail address ("ana@example.org") is not one.
# A second "@" ends the name ("@bob@x" is bob) and "@@bob" mentions nobody.
_MENTION = re.compile(r"(?<![\w@.+\-])@([\w.+\-]+)")
# A sentence may end right after a name ("thanks @bob."): trailing dots and dashes are
# punctuation, not part of the name.
_TRAILING = ".-+"


def mentioned_usernames(text: str) -> list[str]:
    """Return the usernames mentioned in `text`, in the order first mentioned, each once
    (compared without case, as people type names as they like)."""
    seen: set[str] = set()
    names = []
    for match in _MENTION.finditer(text):
        name = match.group(1).rstrip(_TRAILING)
        if not name or name.casefold() in seen:
            continue
        seen.add(name.casefold())
        names.append(name)
    return names
