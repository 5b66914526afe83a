"""Adding a piece in admin from pasted raw text: clean, show, correct, save, confirm.

Step 1 takes the text as copied from a news site. Step 2 shows the cleaned piece with
a proposed headline, lead, date and author, and lists every paragraph the cleaner took
out, so the editor sees what went before anything is stored. Saving stores the piece
with the archive's actor and event suggestions and opens its change page, where the
editor confirms or rejects them.
"""

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import construct_change_message
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from archive.cleaning import clean
from archive.duplicates import find_duplicate
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


class PasteForm(forms.Form):
    raw = forms.CharField(
        label="Ruwe tekst",
        widget=forms.Textarea(attrs={"rows": 24, "cols": 100, "class": "vLargeTextField"}),
        help_text="Plak de tekst zoals die van de nieuwssite komt, met bijschriften en al.",
    )


class DraftExtras(forms.Form):
    """What step 2 adds to the article form: the raw text it came from, the author found
    in a closing bio, and consent to keep a near copy as a piece of its own."""

    raw = forms.CharField(widget=forms.HiddenInput)
    bio_author = forms.CharField(required=False, widget=forms.HiddenInput)
    bio = forms.CharField(required=False, widget=forms.HiddenInput)
    add_bio_author = forms.BooleanField(required=False, initial=True)
    keep_near_duplicate = forms.BooleanField(
        label="Toch opslaan als apart stuk",
        required=False,
        help_text="Alleen als dit echt een ander stuk is dan het bijna gelijke hieronder.",
    )


def paste_view(model_admin, request):
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    DraftForm = model_admin.get_form(request, fields=DRAFT_FIELDS)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": Article._meta,
        "title": "Stuk toevoegen uit geplakte tekst",
    }

    if request.method == "POST" and "_save" in request.POST:
        form, extras = DraftForm(request.POST), DraftExtras(request.POST)
        duplicate = None
        if form.is_valid() and extras.is_valid():
            duplicate = find_duplicate(form.cleaned_data["body"])
            if duplicate and (duplicate.exact or not extras.cleaned_data["keep_near_duplicate"]):
                form.add_error("body", duplicate_message(duplicate))
            else:
                article = save_draft(model_admin, request, form, extras.cleaned_data)
                return redirect(reverse("admin:archive_article_change", args=[article.pk]))
        raw = request.POST.get("raw", "")
        return step_two(request, context, form, extras, clean(raw), duplicate)

    paste = PasteForm(request.POST or None)
    if request.method == "POST" and paste.is_valid():
        cleaned = clean(paste.cleaned_data["raw"])
        if not cleaned.body:
            paste.add_error("raw", "Na het opschonen blijft er geen tekst over.")
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
            "media": form.media,
        },
    )


def duplicate_message(duplicate) -> str:
    url = reverse("admin:archive_article_change", args=[duplicate.article.pk])
    what = "staat al in het archief" if duplicate.exact else "lijkt sterk op een stuk dat er al is"
    return format_html(
        "Deze tekst {}: <a href='{}'>{}</a> ({}).",
        what,
        url,
        duplicate.article.title,
        "gelijk" if duplicate.exact else f"{duplicate.similarity:.0%} gelijk",
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
