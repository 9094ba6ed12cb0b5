"""Exports too large for one Lambda response: written to S3 and handed out as a short-lived presigned link."""
from __future__ import annotations


class S3Exports:
    def __init__(self, client_factory, bucket: str) -> None:
        self._client_factory = client_factory
        self.bucket = bucket

    def publish(self, key: str, body: bytes, content_type: str, filename: str, seconds: int = 300) -> str:
        """Store the file (it expires by the bucket's lifecycle rule) and return a link valid `seconds`."""
        s3 = self._client_factory()
        disposition = f'attachment; filename="{filename}"'
        s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type,
                      ContentDisposition=disposition, ServerSideEncryption="AES256")
        return s3.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": key,
                                                               "ResponseContentType": content_type,
                                                               "ResponseContentDisposition": disposition},
                                         ExpiresIn=seconds)
