"""Adding a piece in admin from pasted raw text: clean, show, correct, save, confirm.

Step 1 takes the text as copied from a news site. Step 2 shows the cleaned piece with
a proposed headline, lead, date and author, and lists every paragraph the cleaner took
out, so the editor sees what went before anything is stored. Saving stores the piece
with the archive's actor and event suggestions and opens its change page, where the
editor confirms or rejects them.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.utils import construct_change_message
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from archive.cleaning import clean
from archive.duplicates import find_duplicate
from archive.forms import duplicate_message, max_chars, too_long
from archive.ingest import author_for, source_named_in
from archive.models import Article, Author, Genre, Source

DRAFT_FIELDS = [
    "title",
    "lead",
    "body",
    "genre",
    "published_on",
    "date_precision",
    "source",
    "authors",
    "url",
]


PASTE_ADVICE = "Plak alleen het stuk zelf, zonder de rest van de pagina."


def raw_limit():
    return max_chars(settings.MAX_PASTE_CHARS, "De geplakte tekst", PASTE_ADVICE)


class PasteForm(forms.Form):
    raw = forms.CharField(
        label="Ruwe tekst",
        widget=forms.Textarea(attrs={"rows": 24, "cols": 100, "class": "vLargeTextField"}),
        help_text="Plak de tekst zoals die van de nieuwssite komt, met bijschriften en al.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Read when the form is made, so a changed setting applies at once.
        self.fields["raw"].validators.append(raw_limit())


class DraftExtras(forms.Form):
    """What step 2 carries besides the article form: the raw text it came from and the
    author found in a closing bio."""

    raw = forms.CharField(widget=forms.HiddenInput)
    bio_author = forms.CharField(required=False, widget=forms.HiddenInput)
    bio = forms.CharField(required=False, widget=forms.HiddenInput)
    add_bio_author = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["raw"].validators.append(raw_limit())


def paste_view(model_admin, request):
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    # The admin's own form for a piece (ArticleForm: duplicates refused), with its
    # widgets: autocomplete for source and authors, the date picker.
    DraftForm = model_admin.get_form(request, fields=[*DRAFT_FIELDS, "keep_near_duplicate"])
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": Article._meta,
        "title": "Stuk toevoegen uit geplakte tekst",
        # The admin's own scripts (core.js, related-object popups), as its change form has.
        "model_media": model_admin.media,
    }

    if request.method == "POST" and "_save" in request.POST:
        form, extras = DraftForm(request.POST), DraftExtras(request.POST)
        if form.is_valid() and extras.is_valid():
            article = save_draft(model_admin, request, form, extras.cleaned_data)
            return redirect(reverse("admin:archive_article_change", args=[article.pk]))
        # Only what step 1 would have accepted is cleaned again to list what went.
        raw = request.POST.get("raw", "")
        cleaned = clean(raw if len(raw) <= settings.MAX_PASTE_CHARS else "")
        return step_two(request, context, form, extras, cleaned, getattr(form, "duplicate", None))

    paste = PasteForm(request.POST or None)
    if request.method == "POST" and paste.is_valid():
        cleaned = clean(paste.cleaned_data["raw"])
        if not cleaned.body:
            paste.add_error("raw", "Na het opschonen blijft er geen tekst over.")
        elif len(cleaned.body) > settings.MAX_PIECE_CHARS:
            limit = too_long("De opgeschoonde tekst", len(cleaned.body), settings.MAX_PIECE_CHARS)
            paste.add_error("raw", f"{limit} Verdeel hem over meer stukken.")
        else:
            form = DraftForm(initial=proposal(cleaned))
            extras = DraftExtras(
                initial={
                    "raw": paste.cleaned_data["raw"],
                    "bio_author": cleaned.bio_author,
                    "bio": cleaned.bio,
                }
            )
            duplicate = find_duplicate(cleaned.body)
            if duplicate:
                messages.warning(request, duplicate_message(duplicate))
            return step_two(request, context, form, extras, cleaned, duplicate)
    return TemplateResponse(
        request, "admin/archive/article/paste.html", {**context, "paste_form": paste}
    )


def proposal(cleaned) -> dict:
    """Initial values for the article form from what the cleaner found."""
    initial = {"title": cleaned.headline, "lead": cleaned.lead, "body": cleaned.body}
    if cleaned.published_on:
        initial["published_on"] = cleaned.published_on
        initial["date_precision"] = cleaned.date_precision
    if cleaned.is_column:
        initial["genre"] = Genre.COLUMN
    if cleaned.bio:
        name = source_named_in(cleaned.bio)
        source = Source.objects.filter(name=name).first() if name else None
        if source:
            initial["source"] = source.pk
        author = Author.objects.filter(name__iexact=cleaned.bio_author).first()
        if author:
            initial["authors"] = [author.pk]
    return initial


def step_two(request, context, form, extras, cleaned, duplicate=None):
    bio_author = extras["bio_author"].value() or ""
    return TemplateResponse(
        request,
        "admin/archive/article/paste_review.html",
        {
            **context,
            "form": form,
            "extras": extras,
            "removed": cleaned.removed,
            "subheadings": cleaned.subheadings,
            "bio_author": bio_author,
            "bio_author_known": Author.objects.filter(name__iexact=bio_author).exists(),
            "duplicate": duplicate,
            "media": context["model_media"] + form.media,
        },
    )


def save_draft(model_admin, request, form, extras) -> Article:
    from archive.tagging import apply_suggestions

    with transaction.atomic():
        article = form.save()
        if extras["add_bio_author"] and extras["bio_author"]:
            article.authors.add(author_for(extras["bio_author"], extras["bio"]))
        suggested = apply_suggestions(article)
        model_admin.log_addition(request, article, construct_change_message(form, None, True))
    messages.success(
        request,
        f"‘{article.title}’ is opgeslagen. Het archief stelt {suggested.actors} actoren en "
        f"{suggested.events} gebeurtenissen voor: bevestig of wijs ze hieronder af.",
    )
    return article
